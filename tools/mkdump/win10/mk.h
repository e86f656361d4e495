/*
 * tools/mkdump/win10/mk.h - the machine model of ntscope-mkdump, the builder
 * of realistic Windows 10/11 x64 full memory dumps, and the API its feature
 * modules share (see README.md in this folder for the extension points).
 *
 * The builder writes through the independent dump writer (../dumpwriter.h:
 * physical memory, page tables, header, file) and takes every offset and
 * size of a Windows structure from ntscope's type database (the built-in
 * layouts of the chosen kernel build). On-disk formats that are not kernel
 * structures (PE headers, the KDBG header) are public-format constants.
 *
 * Error style: every helper records the FIRST failure in the machine
 * (mk_fail) and returns -1 (or 0 for an address); later calls still run but
 * the builder checks mk_failed(m) at each step and stops with m->err. This
 * keeps the feature code free of error plumbing after every write.
 */
#ifndef NTS_MKDUMP_WIN10_MK_H
#define NTS_MKDUMP_WIN10_MK_H

#include <stddef.h>
#include <stdint.h>

#include "dumpwriter.h"
#include "ntscope/types.h"

/* ---- Build selection ---------------------------------------------------- */

typedef struct mk_build {
    uint32_t build, revision; /* 19041, 804 */
    uint8_t guid[16];         /* RSDS byte order */
    uint32_t age;
    char name[32];            /* "10.0.19041.804" */
    const char *build_lab;    /* "19041.1.amd64fre.vb_release.191206-1406" */
} mk_build;

/* ---- Options (main.c fills them) ---------------------------------------- */

typedef struct mk_options {
    const char *out_path;
    uint32_t build;     /* 17763, 19041 (default), 22000 */
    uint64_t seed;      /* default 1 */
    uint64_t ram_bytes; /* default 1 GB (16 GB with --scenario seed) */
    int bitmap;         /* write DumpType 5 instead of 1 */
    int extra_processes;/* --processes N: more svchost.exe */
    int scenario_seed;  /* --scenario seed: the seed's own addresses */
    const char *isf_dir;/* --isf DIR: a Volatility symbol folder for types the built-in tables lack */
    uint32_t leak_blocks; /* --leak-blocks N: D4C.exe's leaked heap blocks (0: the default, 3000) */
    uint32_t leak_size;   /* --leak-size BYTES: each leaked block's size (0: the default, 0x1000) */
    const char *hives[16];/* --hive FILE: real hives loaded as \REGISTRY\MACHINE\<NAME> */
    int nhives;
} mk_options;

/* ---- The offsets looked up once at start (layout.c) --------------------- */

/* X(member, "TYPE.path" or "TYPE" for a size). All are required: a build
 * whose layout lacks one is refused at start with the path in the message. */
#define MK_LAYOUT_FIELDS(X)                                                   \
    X(le_flink, "_LIST_ENTRY.Flink")                                          \
    X(le_blink, "_LIST_ENTRY.Blink")                                          \
    X(le_size, "_LIST_ENTRY")                                                 \
    X(us_length, "_UNICODE_STRING.Length")                                    \
    X(us_maxlen, "_UNICODE_STRING.MaximumLength")                             \
    X(us_buffer, "_UNICODE_STRING.Buffer")                                    \
    X(us_size, "_UNICODE_STRING")                                             \
    X(ph_size, "_POOL_HEADER")                                                \
    X(oh_size, "_OBJECT_HEADER")                                              \
    X(oh_body, "_OBJECT_HEADER.Body")                                         \
    X(oh_typeindex, "_OBJECT_HEADER.TypeIndex")                               \
    X(oh_infomask, "_OBJECT_HEADER.InfoMask")                                 \
    X(ep_size, "_EPROCESS")                                                   \
    X(ep_dtb, "_EPROCESS.Pcb.DirectoryTableBase")                             \
    X(ep_pid, "_EPROCESS.UniqueProcessId")                                    \
    X(ep_links, "_EPROCESS.ActiveProcessLinks")                               \
    X(ep_ppid, "_EPROCESS.InheritedFromUniqueProcessId")                      \
    X(ep_name, "_EPROCESS.ImageFileName")                                     \
    X(ep_peb, "_EPROCESS.Peb")                                                \
    X(ep_objtable, "_EPROCESS.ObjectTable")                                   \
    X(ep_threads, "_EPROCESS.ThreadListHead")                                 \
    X(ep_kthreads, "_EPROCESS.Pcb.ThreadListHead")                            \
    X(ep_token, "_EPROCESS.Token")                                            \
    X(ep_createtime, "_EPROCESS.CreateTime")                                  \
    X(ep_audit_name, "_EPROCESS.SeAuditProcessCreationInfo.ImageFileName")    \
    X(ep_commit, "_EPROCESS.CommitCharge")                                    \
    X(ep_vm, "_EPROCESS.Vm")                                                  \
    X(kthread_teb, "_KTHREAD.Teb")                                            \
    X(peb_size, "_PEB")                                                       \
    X(peb_imagebase, "_PEB.ImageBaseAddress")                                 \
    X(peb_ldr, "_PEB.Ldr")                                                    \
    X(peb_params, "_PEB.ProcessParameters")                                   \
    X(ldrd_size, "_PEB_LDR_DATA")                                             \
    X(ldrd_load, "_PEB_LDR_DATA.InLoadOrderModuleList")                       \
    X(ldrd_mem, "_PEB_LDR_DATA.InMemoryOrderModuleList")                      \
    X(ldrd_init, "_PEB_LDR_DATA.InInitializationOrderModuleList")             \
    X(lde_size, "_LDR_DATA_TABLE_ENTRY")                                      \
    X(lde_load, "_LDR_DATA_TABLE_ENTRY.InLoadOrderLinks")                     \
    X(lde_mem, "_LDR_DATA_TABLE_ENTRY.InMemoryOrderLinks")                    \
    X(lde_init, "_LDR_DATA_TABLE_ENTRY.InInitializationOrderLinks")           \
    X(lde_base, "_LDR_DATA_TABLE_ENTRY.DllBase")                              \
    X(lde_entry, "_LDR_DATA_TABLE_ENTRY.EntryPoint")                          \
    X(lde_sizeofimage, "_LDR_DATA_TABLE_ENTRY.SizeOfImage")                   \
    X(lde_fullname, "_LDR_DATA_TABLE_ENTRY.FullDllName")                      \
    X(lde_basename, "_LDR_DATA_TABLE_ENTRY.BaseDllName")                      \
    X(klde_size, "_KLDR_DATA_TABLE_ENTRY")                                    \
    X(klde_load, "_KLDR_DATA_TABLE_ENTRY.InLoadOrderLinks")                   \
    X(klde_base, "_KLDR_DATA_TABLE_ENTRY.DllBase")                            \
    X(klde_sizeofimage, "_KLDR_DATA_TABLE_ENTRY.SizeOfImage")                 \
    X(klde_fullname, "_KLDR_DATA_TABLE_ENTRY.FullDllName")                    \
    X(klde_basename, "_KLDR_DATA_TABLE_ENTRY.BaseDllName")                    \
    X(upp_size, "_RTL_USER_PROCESS_PARAMETERS")                               \
    X(kuser_size, "_KUSER_SHARED_DATA")                                       \
    X(kpcr_size, "_KPCR")                                                     \
    X(kpcr_prcb, "_KPCR.Prcb")                                                \
    X(kprcb_size, "_KPRCB")

typedef struct mk_layout {
#define MK_LAYOUT_MEMBER(name, path) uint64_t name;
    MK_LAYOUT_FIELDS(MK_LAYOUT_MEMBER)
#undef MK_LAYOUT_MEMBER
} mk_layout;

/* ---- Kernel VA regions (kva.c) ------------------------------------------ */

typedef enum mk_kregion {
    MK_KR_NONPAGED = 0, /* nonpaged pool: processes, threads, driver objects */
    MK_KR_PAGED,        /* paged pool: handle tables, tokens, registry */
    MK_KR_STACKS,       /* kernel stacks */
    MK_KR_SYSTEM,       /* system PTE space: driver images, big mappings */
    MK_KR_PFN,          /* the PFN database (VA reserved, not mapped here) */
    MK_KR_COUNT
} mk_kregion;

typedef enum mk_pool_type { MK_POOL_NONPAGED = 0, MK_POOL_PAGED = 1 } mk_pool_type;

/* ---- Kernel image (kimage.c) -------------------------------------------- */

typedef struct mk_section {
    char name[9];
    uint32_t rva, vsize; /* vsize page rounded; sections are contiguous */
    uint32_t characteristics;
} mk_section;

/* A kernel function with the frame its UNWIND_INFO describes. The stack a
 * thread module builds must use exactly these frames. */
typedef struct mk_kfunc {
    const char *name;
    uint32_t rva, size;   /* size: the RUNTIME_FUNCTION's extent */
    uint64_t va;
    uint8_t push[8];      /* registers pushed, in prolog order (x64 numbering) */
    int npush;
    uint32_t alloc;       /* sub rsp, alloc */
    int machframe;        /* -1 none; 0/1 UWOP_PUSH_MACHFRAME (1: error code) */
    uint32_t frame_size;  /* bytes from Child-SP to the caller's Child-SP */
    int has_pdata;
} mk_kfunc;

#define MK_MAX_SECTIONS 24

typedef struct mk_kimage {
    uint64_t base;
    uint32_t size;        /* SizeOfImage */
    uint32_t timestamp, checksum;
    mk_section sec[MK_MAX_SECTIONS];
    int nsec;
    mk_kfunc *funcs;      /* sorted by rva */
    size_t nfuncs;
    uint32_t pdata_rva, pdata_size;
    uint32_t export_rva, export_size;
    uint32_t debug_rva, rsds_rva;
    uint32_t gen_rva, gen_next, gen_end; /* free space in .rdata for generated data */
    uint32_t data_gap_rva, data_gap_end; /* free space in .data for unnamed globals */
    int nexports;
} mk_kimage;

/* ---- Modules (modules.c) ------------------------------------------------ */

typedef struct mk_module {
    char name[64];   /* BaseDllName */
    char path[260];  /* FullDllName */
    uint64_t base;
    uint32_t size;
    uint32_t timestamp, checksum;
    uint64_t entry;
    uint64_t ldr_entry; /* VA of its loader entry */
} mk_module;

/* ---- Processes (process.c, peb.c) --------------------------------------- */

typedef struct mk_env {
    char **vars; /* "NAME=value" */
    size_t n;
} mk_env;

typedef struct mk_proc_spec {
    const char *name;      /* ImageFileName (15 chars kept) */
    uint32_t pid, ppid;
    int session;           /* -1: none (System, Registry, smss) */
    const char *image_path;/* Win32 path; NULL for System/Registry */
    const char *cmdline;   /* NULL: none */
    const char *curdir;
    const char *title;     /* WindowTitle; NULL: the image path */
    int env_kind;          /* MK_ENV_* */
    const char *const *modules; /* extra DLLs after ntdll, kernel32, KernelBase (NULL ended) */
    int minimal_modules;   /* only the exe and ntdll (smss), or exe+ntdll+csr dlls */
    uint64_t commit_pages;
    uint32_t handle_count;
    int no_peb;            /* System, Registry */
    /* --scenario seed: fixed addresses (0: choose) */
    uint64_t fixed_eprocess, fixed_peb, fixed_dtb, fixed_objtable, fixed_env;
    uint64_t fixed_heaps[4];  /* PEB.ProcessHeaps; the first is ProcessHeap */
    uint64_t fixed_private;   /* base of the private region (params, loader entries) */
} mk_proc_spec;

enum { MK_ENV_NONE = 0, MK_ENV_SYSTEM, MK_ENV_USER };

typedef struct mk_process {
    char name[16];
    char image_path[260];   /* Win32 path */
    char nt_path[300];      /* \Device\HarddiskVolume3\... */
    char cmdline[2048];
    char curdir[260];
    char title[260];
    uint32_t pid, ppid;
    int session;
    uint64_t eprocess;      /* body VA */
    uint64_t dtb;           /* final physical address of the PML4 (Pcb.DirectoryTableBase & ~0xfff) */
    uint64_t dtb_value;     /* the value in Pcb.DirectoryTableBase (PCID bits included) */
    dw_as *as;
    uint64_t peb, ldr, params, environment, env_size, image_base;
    uint64_t ntdll_data;    /* this process's copy of ntdll's data page (PebLdr, heap list) */
    uint64_t process_heap;  /* _HEAP reserved for heap.c (signature written) */
    uint64_t heaps[16];     /* PEB.ProcessHeaps contents */
    int nheaps;
    uint64_t heaps_array;   /* VA of PEB.ProcessHeaps */
    uint64_t object_table, token, session_space;
    uint64_t create_time;
    uint64_t commit_pages, ws_pages, virtual_size;
    uint32_t handle_count;
    mk_env env;
    mk_module *mods;        /* load order: exe, ntdll, kernel32, ... */
    size_t nmods;
    /* user VA allocator */
    uint64_t uva_next;      /* private data region bump pointer */
    uint64_t uva_end;
    int fixed_placed;       /* seed addresses used */
} mk_process;

/* ---- Truth JSON (truth.c) ----------------------------------------------- */

typedef struct mk_json mk_json;

mk_json *mk_json_object(void);
mk_json *mk_json_array(void);
void mk_json_free(mk_json *j);
/* Add to an object (key) or an array (key NULL). Return the value added. */
mk_json *mk_json_add(mk_json *parent, const char *key, mk_json *value);
mk_json *mk_json_str(mk_json *parent, const char *key, const char *s);
mk_json *mk_json_hex(mk_json *parent, const char *key, uint64_t v); /* "0x..." */
mk_json *mk_json_num(mk_json *parent, const char *key, int64_t v);
mk_json *mk_json_bool(mk_json *parent, const char *key, int v);
mk_json *mk_json_obj(mk_json *parent, const char *key); /* new object child */
mk_json *mk_json_arr(mk_json *parent, const char *key); /* new array child */
/* The child of an object with this key (NULL if none). */
mk_json *mk_json_get(mk_json *obj, const char *key);
int mk_json_write(const mk_json *j, const char *path);

/* ---- The machine -------------------------------------------------------- */

typedef struct mk_range {
    uint64_t start, end;
} mk_range;

typedef struct mk_kva_region {
    const char *name;
    uint64_t base, next, end;
} mk_kva_region;

typedef struct mk_fixed_dtb {
    dw_as *as;
    uint64_t pa;
} mk_fixed_dtb;

typedef struct mk_objtype {
    const char *name;
    uint8_t index;
    uint32_t key; /* pool tag */
    uint64_t va;  /* _OBJECT_TYPE */
} mk_objtype;

typedef struct mk_pool_page {
    uint64_t va;        /* current page */
    uint32_t used;      /* bytes used in it */
    uint32_t last_units;/* BlockSize of the last block (for PreviousSize) */
} mk_pool_page;

typedef struct mk_bigpool {
    uint64_t va, size;
    uint32_t tag;
    int paged;
} mk_bigpool;

typedef struct mk_machine {
    mk_options opt;
    mk_build bld;
    nts_typedb *db;
    nts_typedb *db2;         /* optional: the build's ISF, for types the built-in tables lack */
    mk_layout L;
    dw_image *img;
    dw_as *kas;              /* the kernel (System) address space */
    unsigned selfmap;        /* PML4 self-map index */
    uint64_t system_dtb;     /* physical PML4 of System (in Volatility's scan window) */
    uint64_t rng;
    char err[512];
    int failed;

    /* time */
    uint64_t system_time;    /* FILETIME of the crash */
    uint64_t boot_time;
    uint64_t uptime;         /* 100 ns */

    /* kernel */
    mk_kimage k;
    mk_kva_region kr[MK_KR_COUNT];
    mk_range *used;          /* kernel VA ranges in use, sorted */
    size_t nused, capused;
    mk_pool_page pool[2];
    mk_bigpool *big;
    size_t nbig, capbig;
    mk_objtype types[16];
    int ntypes;
    uint8_t ob_cookie;
    uint64_t pfn_database;   /* MmPfnDatabase value */
    uint64_t kuser_pa;       /* physical page of KUSER_SHARED_DATA */
    uint64_t kpcr[64];       /* per CPU _KPCR */
    int ncpus;
    uint64_t phys_desc;      /* _PHYSICAL_MEMORY_DESCRIPTOR (MmPhysicalMemoryBlock) */
    uint64_t crash_rsp;      /* CPU 0 context */

    /* kernel modules (PsLoadedModuleList order) */
    mk_module *kmods;
    size_t nkmods;

    /* user DLLs shared by every process: one header page each */
    struct mk_dll {
        char name[64], path[260];
        uint64_t base;
        uint32_t size, timestamp, checksum;
        uint64_t header_pa;
    } *dlls;
    size_t ndlls;
    uint64_t dll_next;       /* next DLL base (grows down) */

    /* processes (ActiveProcessLinks order) */
    mk_process **procs;
    size_t nprocs;

    mk_fixed_dtb fixed[64];
    int nfixed;

    mk_json *truth;          /* root object of OUT.dmp.json */
} mk_machine;

/* ---- machine.c ---------------------------------------------------------- */

int mk_select_build(uint32_t build, mk_build *out, char *err, size_t errlen);
mk_machine *mk_create(const mk_options *opt, char *err, size_t errlen);
void mk_destroy(mk_machine *m);
int mk_fail(mk_machine *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int mk_failed(const mk_machine *m) { return m->failed; }
uint64_t mk_rand(mk_machine *m);
uint64_t mk_rand_range(mk_machine *m, uint64_t lo, uint64_t hi); /* [lo, hi) */
/* Reserve a physical page for a PML4 that must end up at pa (--scenario
 * seed DirBase values); the table is copied there at mk_finalize. 0 if pa is
 * not in RAM (the process keeps its own page). */
int mk_fix_dtb(mk_machine *m, dw_as *as, uint64_t pa);
/* The physical PML4 an address space ends up with (its fixed page, if any). */
uint64_t mk_as_final_dtb(const mk_machine *m, const dw_as *as);
/* A new address space for a process: same self-map index, kernel half shared. */
dw_as *mk_as_create(mk_machine *m);
/* Copy PML4s to their fixed pages, share kernel halves, fill the header. */
int mk_finalize(mk_machine *m);
int mk_write(mk_machine *m);

/* ---- layout.c ----------------------------------------------------------- */

int mk_layout_init(mk_machine *m);
/* A field ("_EPROCESS.UniqueProcessId") or, without a dot, a type's size in
 * f->size. mk_field records a failure when absent; mk_field_opt does not. */
int mk_field(mk_machine *m, const char *path, nts_field *f);
int mk_field_opt(mk_machine *m, const char *path, nts_field *f);
uint64_t mk_off(mk_machine *m, const char *path);
uint64_t mk_sizeof(mk_machine *m, const char *type);
int mk_has(mk_machine *m, const char *path);
/* Write an integer field of the structure at va (bitfields included). */
int mk_write_field_as(mk_machine *m, dw_as *as, uint64_t va, const char *path, uint64_t value);
int mk_write_field(mk_machine *m, uint64_t va, const char *path, uint64_t value); /* kernel AS */
/* Same, but a field the layout lacks is skipped (returns 0). */
int mk_write_field_opt_as(mk_machine *m, dw_as *as, uint64_t va, const char *path, uint64_t v);
int mk_write_field_opt(mk_machine *m, uint64_t va, const char *path, uint64_t value);
uint64_t mk_read_field_as(mk_machine *m, dw_as *as, uint64_t va, const char *path);
/* A symbol of the kernel: its RVA (mk_sym fails when absent). */
int mk_sym(mk_machine *m, const char *name, uint32_t *rva);
int mk_sym_opt(mk_machine *m, const char *name, uint32_t *rva);
uint64_t mk_sym_va(mk_machine *m, const char *name); /* 0 + failure if absent */

/* ---- memio.c ------------------------------------------------------------ */

int mk_wr(mk_machine *m, dw_as *as, uint64_t va, const void *buf, size_t n);
int mk_rd(mk_machine *m, dw_as *as, uint64_t va, void *buf, size_t n);
int mk_w8(mk_machine *m, dw_as *as, uint64_t va, uint8_t v);
int mk_w16(mk_machine *m, dw_as *as, uint64_t va, uint16_t v);
int mk_w32(mk_machine *m, dw_as *as, uint64_t va, uint32_t v);
int mk_w64(mk_machine *m, dw_as *as, uint64_t va, uint64_t v);
uint64_t mk_r64(mk_machine *m, dw_as *as, uint64_t va);
/* LIST_ENTRY at head: empty (Flink = Blink = head); entry appended at the tail. */
int mk_list_init(mk_machine *m, dw_as *as, uint64_t head);
int mk_list_insert_tail(mk_machine *m, dw_as *as, uint64_t head, uint64_t entry);
/* UTF-8 to UTF-16LE; returns code units (no NUL added). */
size_t mk_utf16(const char *s, uint16_t *out, size_t max);
/* Write text as UTF-16LE at va plus a NUL; returns the bytes without the NUL. */
size_t mk_write_wstr(mk_machine *m, dw_as *as, uint64_t va, const char *text);
/* A UNICODE_STRING at us pointing to a buffer at buf holding text (+NUL). */
int mk_unicode_string(mk_machine *m, dw_as *as, uint64_t us, uint64_t buf, const char *text);
/* Bytes a string needs as UTF-16 with its NUL, rounded up to 8. */
size_t mk_wstr_bytes(const char *text);
/* FILETIME of a UTC date. */
uint64_t mk_filetime(int year, int mon, int day, int hour, int min, int sec);

/* ---- kva.c -------------------------------------------------------------- */

int mk_kva_init(mk_machine *m);
/* Fresh zeroed, mapped kernel memory; size page rounded, align >= 4 KB. */
uint64_t mk_kva_alloc(mk_machine *m, mk_kregion r, uint64_t size, uint64_t align);
/* Map [va, va+size) (pages not yet mapped get fresh pages) and mark it used;
 * fails if part of it is already used. */
int mk_kva_place(mk_machine *m, uint64_t va, uint64_t size);
int mk_kva_used(const mk_machine *m, uint64_t va, uint64_t size);
/* A pool block: _POOL_HEADER then size bytes (16-aligned); returns the VA
 * after the header. Blocks past a page are page-aligned "big pool" blocks
 * without a header, recorded in m->big for the pool module. */
uint64_t mk_pool_alloc(mk_machine *m, mk_pool_type t, uint32_t tag, uint64_t size);
/* The same at a fixed body address (--scenario seed). */
uint64_t mk_pool_alloc_at(mk_machine *m, mk_pool_type t, uint32_t tag, uint64_t size, uint64_t body);
/* Write a _POOL_HEADER at va. */
int mk_pool_header(mk_machine *m, uint64_t va, mk_pool_type t, uint32_t tag, uint32_t units,
                   uint32_t prev_units);
uint32_t mk_tag(const char *four); /* "Proc" -> 0x636f7250 */

/* ---- object.c ----------------------------------------------------------- */

int mk_objtypes_init(mk_machine *m);
const mk_objtype *mk_objtype_find(mk_machine *m, const char *name);
/* InfoMask bits of the optional headers (public values). */
enum { MK_OBINFO_CREATOR = 0x01, MK_OBINFO_NAME = 0x02, MK_OBINFO_HANDLE = 0x04,
       MK_OBINFO_QUOTA = 0x08, MK_OBINFO_PROCESS = 0x10 };
/* An object of the named type: pool block (the type's tag) + optional headers
 * + _OBJECT_HEADER + body. Returns the body VA. body_va != 0 places it there. */
uint64_t mk_object_create(mk_machine *m, const char *type, mk_pool_type pt, uint64_t body_size,
                          unsigned info_mask, uint64_t body_va);

/* ---- kimage.c / kdbg.c -------------------------------------------------- */

int mk_kimage_build(mk_machine *m);
/* kcode.c: bodies, UNWIND_INFO and .pdata for m->k.funcs (called by kimage). */
int mk_kcode_build(mk_machine *m);
/* Room in .rdata for generated tables; returns the RVA (0 + failure if full). */
uint32_t mk_kimage_rdata(mk_machine *m, uint32_t size, uint32_t align);
const mk_kfunc *mk_kfunc_find(const mk_machine *m, const char *name);
const mk_kfunc *mk_kfunc_at(const mk_machine *m, uint64_t va);
/* Place "call callee" so that caller+ret is its return address (a no-op
 * when the build lacks either function). */
int mk_kimage_call(mk_machine *m, const char *caller, uint32_t ret, const char *callee);
/* Free space in the image for unnamed globals (8-aligned); returns the VA. */
uint64_t mk_kimage_data(mk_machine *m, uint32_t size);
int mk_kdbg_build(mk_machine *m);
int mk_kdbg_fill_late(mk_machine *m); /* after processes: counters, header */

/* ---- process.c / peb.c / modules.c -------------------------------------- */

mk_process *mk_process_create(mk_machine *m, const mk_proc_spec *spec);
mk_process *mk_process_find(mk_machine *m, const char *name); /* first by name */
mk_process *mk_process_by_pid(mk_machine *m, uint32_t pid);
/* User memory of process p: fresh zero pages in its private data region. */
uint64_t mk_uva_alloc(mk_machine *m, mk_process *p, uint64_t size);
/* Map fresh pages at a fixed user VA (already-mapped pages are kept). */
int mk_uva_map(mk_machine *m, mk_process *p, uint64_t va, uint64_t size, uint64_t flags);
int mk_peb_build(mk_machine *m, mk_process *p, const mk_proc_spec *spec);
int mk_env_build(mk_machine *m, mk_process *p, int kind);
int mk_kmodules_build(mk_machine *m);
/* Load a DLL into p (shared header page, loader entry later in mk_ldr_build). */
mk_module *mk_user_module_add(mk_machine *m, mk_process *p, const char *name);
int mk_ldr_build(mk_machine *m, mk_process *p);
/* A minimal real PE header page for a module (also used for drivers). */
int mk_pe_header_page(uint8_t page[4096], const char *name, uint64_t base, uint32_t size,
                      uint32_t timestamp, uint32_t checksum, int dll, int kernel);

/* ---- scenario_seed.c ---------------------------------------------------- */

/* Physical pages the scenario needs at fixed addresses: call before any
 * allocation. */
int mk_scenario_reserve(mk_machine *m);
int mk_scenario_build(mk_machine *m);

/* ---- heap.c (heap_nt.c, heap_seg.c) ------------------------------------ */

/* NT and segment heaps in every process, D4C.exe's leak, the "heaps" truth. */
int mk_heaps_build(mk_machine *m);

/* ---- registry.c (hive_make.c, registry_place.c, registry_kcb.c) --------- */

/* Hives made with hivex placed as Windows 10 keeps them, KCBs, --hive
 * files, the "registry" truth. */
int mk_registry_build(mk_machine *m);

/* ---- truth.c ------------------------------------------------------------ */

int mk_truth_begin(mk_machine *m);   /* format, generator, build (at start) */
int mk_truth_machine(mk_machine *m); /* the core sections: header, kernel, processes ... (at the end) */

/* Little-endian helpers for on-disk formats. */
static inline void mk_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void mk_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void mk_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

#endif

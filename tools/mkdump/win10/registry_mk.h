/*
 * tools/mkdump/win10/registry_mk.h - the registry module of ntscope-mkdump:
 * what its files share.
 *
 * hive_make.c makes hive files with Debian's hivex (hivexsh -w on a
 * minimal regf written here) from a spec of keys and values, finds key
 * cells in them with a small regf walker of its own (the builder is a test
 * oracle: it does not read hives with ntscope's library), and writes
 * volatile bins. registry_place.c puts hives in kernel memory as Windows 10
 * does; registry_kcb.c builds key control blocks; registry.c holds the
 * machine's hive contents, runs it all and writes the truth.
 */
#ifndef NTS_MKDUMP_WIN10_REGISTRY_MK_H
#define NTS_MKDUMP_WIN10_REGISTRY_MK_H

#include <stddef.h>
#include <stdint.h>

#include "mk.h"

#define RK_NIL 0xffffffffu

/* ---- hive contents ------------------------------------------------------ */

typedef struct rk_value {
    char *name;        /* "" for the default value */
    uint32_t type;
    uint8_t *data;
    uint32_t len;
} rk_value;

typedef struct rk_key {
    char *path;        /* below the root: "Microsoft\\Windows NT\\CurrentVersion" */
    rk_value *vals;
    size_t nvals;
    int cached;        /* gets a KCB */
    uint32_t cell;     /* found after the hive is made */
} rk_key;

typedef struct rk_spec {
    char mount[64];      /* "SOFTWARE": the hive is \REGISTRY\MACHINE\<mount> (or \REGISTRY\<mount> for USER) */
    char root_path[128]; /* "\\REGISTRY\\MACHINE\\SOFTWARE" */
    char root_name[96];  /* the root key's name */
    char base_name[64];  /* base block FileName ("" -> <NONAME>) */
    char full_path[160]; /* _CMHIVE.FileFullPath */
    char user_name[160]; /* _CMHIVE.FileUserName */
    int user_bins;       /* stable bins are views in the Registry process */
    int volatile_hive;   /* HIVE_VOLATILE (HARDWARE, the master hive) */
    const char *source;  /* --hive FILE (its bytes are used as they are), or NULL */
    rk_key *keys;
    size_t nkeys;
    /* made */
    uint8_t *file;
    size_t len;
    uint64_t key_count;  /* keys in the hive (walked) */
} rk_spec;

rk_key *rk_key_add(rk_spec *s, const char *path);      /* parents are added too */
void rk_val(rk_key *k, const char *name, uint32_t type, const void *data, uint32_t len);
void rk_sz(rk_key *k, const char *name, const char *text);  /* REG_SZ, UTF-16LE + NUL */
void rk_esz(rk_key *k, const char *name, const char *text); /* REG_EXPAND_SZ */
void rk_dword(rk_key *k, const char *name, uint32_t v);
void rk_qword(rk_key *k, const char *name, uint64_t v);
void rk_spec_free(rk_spec *s);

/* ---- hive_make.c -------------------------------------------------------- */

/* 0 if hivexsh can be run. */
int hm_have_hivex(void);
/* Make s->file from the spec (minimal regf + hivexsh); tmpdir is scratch. */
int hm_make(mk_machine *m, rk_spec *s, const char *tmpdir);
/* Load s->source as the hive file. */
int hm_load(mk_machine *m, rk_spec *s);
/* The cell index of a key (path below the root, "" = root), or RK_NIL. */
uint32_t hm_find(const uint8_t *file, size_t len, const char *path);
/* Keys in the hive (cycle-safe). */
uint64_t hm_count_keys(const uint8_t *file, size_t len);
/* Key node fields by cell index (the cell's data). NULL if not an nk. */
uint8_t *hm_nk(uint8_t *file, size_t len, uint32_t cell);

/* A volatile storage: one bin of `size` bytes, cells placed at chosen offsets. */
typedef struct hm_vol {
    uint8_t *bin;
    uint32_t size;
    uint32_t next;     /* next free offset */
} hm_vol;
int hm_vol_init(hm_vol *v, uint32_t size);
/* An allocated cell of data_len bytes at offset `at` (0: the next free
 * place); the gap before it becomes a free cell. Returns the offset. */
uint32_t hm_vol_cell(hm_vol *v, uint32_t at, uint32_t data_len);
/* A volatile key node (flags KEY_VOLATILE|KEY_COMP_NAME) named name. */
uint32_t hm_vol_nk(hm_vol *v, uint32_t at, const char *name, uint32_t parent, uint64_t last_write);
/* An lh list (the leaf Windows writes since format 1.5): cells and the
 * hashes of their names (h = 37*h + upcase(c)). */
uint32_t hm_vol_lh(hm_vol *v, const uint32_t *cells, const uint32_t *hashes, uint16_t n);
/* Close: the tail becomes a free cell. */
void hm_vol_finish(hm_vol *v);

/* ---- registry_place.c --------------------------------------------------- */

typedef struct rk_placed {
    uint64_t cmhive, base_block;
    uint64_t map[2];
    uint32_t length[2];
    uint64_t bins_va;    /* first stable bin (views: the mapping's base) */
    int bins_in_user;
    uint64_t *bin_va;    /* every stable bin: its VA and storage offset */
    uint32_t *bin_off;
    size_t nbins;
    uint64_t vol_bin_va; /* the volatile bin (0: none) */
    uint32_t root_cell;
    uint64_t root_kcb, kcb_table;
    uint32_t kcb_table_size;
} rk_placed;

/* Place the hive (bins, base block, map, _CMHIVE) and link it at the tail
 * of CmpHiveListHead. vol (may be NULL) is the volatile storage. fixed_cmhive
 * / fixed_bins (0: choose) are the seed scenario's addresses. */
int rk_place(mk_machine *m, const rk_spec *s, const hm_vol *vol, uint64_t fixed_cmhive,
             uint64_t fixed_bins, rk_placed *out);
/* The VA of a cell's data (after its size field), 0 if none. */
uint64_t rk_cell_va(const rk_placed *p, uint32_t cell);
void rk_placed_free(rk_placed *p);

/* ---- registry_kcb.c ----------------------------------------------------- */

typedef struct rk_kcb {
    uint64_t va;
    char path[512];      /* full, upper case: \REGISTRY\MACHINE\SOFTWARE\... */
    uint32_t conv_key, bucket, cell, flags, levels;
    uint64_t hive;       /* _CMHIVE (0 for the master hive's own keys before it exists) */
    int table;           /* index of the hive (rk_kcbs.hives) whose table holds it */
} rk_kcb;

typedef struct rk_kcbs {
    rk_kcb *items;
    size_t n, cap;
} rk_kcbs;

/* Windows 10's path hash: per component h = 37*h + upcase(c); across
 * components k = 37*k + h; relative to the hive's root. */
uint32_t rk_conv_key(const char *path_below_root);
/* A KCB (and its name block) in paged pool (fixed_va: the seed's address).
 * Returns its VA. */
uint64_t rk_kcb_make(mk_machine *m, rk_kcbs *all, const char *name, const char *full_path,
                     uint64_t parent, uint32_t flags, uint64_t hive, uint32_t cell, uint32_t conv,
                     uint32_t levels, const uint8_t *nk, uint64_t fixed_va);
/* The hive's KCB hash table (size buckets) holding the KCBs of that hive:
 * chained per bucket in the order given. bucket_of[i] (may be NULL) forces
 * KCB i's bucket (the seed scenario), else the hash decides. */
int rk_kcb_table(mk_machine *m, rk_placed *p, rk_kcb **kcbs, size_t n, uint32_t size,
                 const int *bucket_of);

/* ---- registry.c --------------------------------------------------------- */

int mk_registry_build(mk_machine *m);

#endif

/*
 * tools/mkdump/win10/truth.c - the ground truth written beside the dump
 * (OUT.dmp.json): a small JSON tree every feature module appends its
 * section to, and the core sections (build, header, physical memory,
 * paging, kernel image and globals, kernel modules, processes with their
 * PEB data, environment and modules). 64-bit values are "0x..." strings.
 */
#include "mk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { J_OBJ, J_ARR, J_STR, J_RAW };

struct mk_json {
    int type;
    char *key;
    char *text; /* J_STR: the string; J_RAW: the literal (number, true, "0x..") */
    mk_json *first, *last, *next;
};

static mk_json *node(int type)
{
    mk_json *j = calloc(1, sizeof *j);
    if (j)
        j->type = type;
    return j;
}

mk_json *mk_json_object(void) { return node(J_OBJ); }
mk_json *mk_json_array(void) { return node(J_ARR); }

void mk_json_free(mk_json *j)
{
    while (j) {
        mk_json *next = j->next;
        mk_json_free(j->first);
        free(j->key);
        free(j->text);
        free(j);
        j = next;
    }
}

mk_json *mk_json_add(mk_json *parent, const char *key, mk_json *v)
{
    if (!parent || !v) {
        mk_json_free(v);
        return NULL;
    }
    if (key && parent->type == J_OBJ)
        v->key = strdup(key);
    if (parent->last)
        parent->last->next = v;
    else
        parent->first = v;
    parent->last = v;
    return v;
}

static mk_json *leaf(mk_json *parent, const char *key, int type, const char *text)
{
    mk_json *j = node(type);
    if (!j)
        return NULL;
    j->text = strdup(text ? text : "");
    return mk_json_add(parent, key, j);
}

mk_json *mk_json_str(mk_json *parent, const char *key, const char *s) { return leaf(parent, key, J_STR, s); }

mk_json *mk_json_hex(mk_json *parent, const char *key, uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "\"0x%llx\"", (unsigned long long)v);
    return leaf(parent, key, J_RAW, b);
}

mk_json *mk_json_num(mk_json *parent, const char *key, int64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%lld", (long long)v);
    return leaf(parent, key, J_RAW, b);
}

mk_json *mk_json_bool(mk_json *parent, const char *key, int v) { return leaf(parent, key, J_RAW, v ? "true" : "false"); }
mk_json *mk_json_obj(mk_json *parent, const char *key) { return mk_json_add(parent, key, node(J_OBJ)); }
mk_json *mk_json_arr(mk_json *parent, const char *key) { return mk_json_add(parent, key, node(J_ARR)); }

mk_json *mk_json_get(mk_json *obj, const char *key)
{
    for (mk_json *c = obj ? obj->first : NULL; c; c = c->next)
        if (c->key && !strcmp(c->key, key))
            return c;
    return NULL;
}

static void put_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(fp, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(fp, "\\u%04x", *p);
        else
            fputc(*p, fp);
    }
    fputc('"', fp);
}

/* Scalars-only containers print on one line; others one member a line. */
static int flat(const mk_json *j)
{
    int n = 0;
    for (const mk_json *c = j->first; c; c = c->next, n++)
        if (c->type == J_OBJ || c->type == J_ARR || n > 16)
            return 0;
    return 1;
}

static void put(FILE *fp, const mk_json *j, int depth)
{
    if (j->type == J_STR) {
        put_string(fp, j->text);
        return;
    }
    if (j->type == J_RAW) {
        fputs(j->text, fp);
        return;
    }
    int f = flat(j);
    fputc(j->type == J_OBJ ? '{' : '[', fp);
    for (const mk_json *c = j->first; c; c = c->next) {
        if (f)
            fputs(c == j->first ? "" : ", ", fp);
        else
            fprintf(fp, "%s\n%*s", c == j->first ? "" : ",", 2 * (depth + 1), "");
        if (j->type == J_OBJ) {
            put_string(fp, c->key ? c->key : "");
            fputs(": ", fp);
        }
        put(fp, c, depth + 1);
    }
    if (!f && j->first)
        fprintf(fp, "\n%*s", 2 * depth, "");
    fputc(j->type == J_OBJ ? '}' : ']', fp);
}

int mk_json_write(const mk_json *j, const char *path)
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        return -1;
    put(fp, j, 0);
    fputc('\n', fp);
    return fclose(fp) == 0 ? 0 : -1;
}

/* ---- The core sections -------------------------------------------------- */

static void guid_string(const uint8_t g[16], char out[33])
{
    /* Data1..3 little-endian, as the symbol store writes it. */
    snprintf(out, 33, "%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X", g[3], g[2], g[1],
             g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

static void truth_kernel(mk_machine *m)
{
    mk_kimage *k = &m->k;
    mk_json *kj = mk_json_obj(m->truth, "kernel");
    mk_json_hex(kj, "base", k->base);
    mk_json_hex(kj, "size", k->size);
    mk_json_hex(kj, "timestamp", k->timestamp);
    mk_json_hex(kj, "checksum", k->checksum);
    mk_json_str(kj, "export_name", "ntoskrnl.exe");
    mk_json_num(kj, "exports", k->nexports);
    mk_json *rs = mk_json_obj(kj, "rsds");
    char g[33];
    guid_string(m->bld.guid, g);
    mk_json_hex(rs, "rva", k->rsds_rva);
    mk_json_str(rs, "pdb", "ntkrnlmp.pdb");
    mk_json_str(rs, "guid", g);
    mk_json_num(rs, "age", m->bld.age);
    mk_json *pd = mk_json_obj(kj, "pdata");
    mk_json_hex(pd, "rva", k->pdata_rva);
    mk_json_hex(pd, "size", k->pdata_size);
    mk_json_num(pd, "count", k->pdata_size / 12);
    mk_json *secs = mk_json_arr(kj, "sections");
    for (int i = 0; i < k->nsec; i++) {
        mk_json *s = mk_json_obj(secs, NULL);
        mk_json_str(s, "name", k->sec[i].name);
        mk_json_hex(s, "rva", k->sec[i].rva);
        mk_json_hex(s, "size", k->sec[i].vsize);
        mk_json_hex(s, "characteristics", k->sec[i].characteristics);
    }
    static const char *const globals[] = {
        "PsActiveProcessHead", "PsLoadedModuleList", "KdDebuggerDataBlock", "KdVersionBlock",
        "KiProcessorBlock", "MmPfnDatabase", "MmPteBase", "MmPhysicalMemoryBlock", "NtBuildNumber",
        "NtBuildLab", "KeNumberProcessors", "PsInitialSystemProcess", "CmpHiveListHead", "PoolTrackTable",
        "PoolBigPageTable", "MiSystemPartition", "ObTypeIndexTable", "ObHeaderCookie", "KiBugCheckData",
        "KiInitialProcess", "PsIdleProcess",
    };
    mk_json *gj = mk_json_obj(kj, "globals");
    for (size_t i = 0; i < sizeof globals / sizeof globals[0]; i++) {
        uint32_t rva;
        if (mk_sym_opt(m, globals[i], &rva) == 0)
            mk_json_hex(gj, globals[i], k->base + rva);
    }
    mk_json_hex(kj, "kuser_shared_data", 0xfffff78000000000ull);
    mk_json_hex(kj, "mm_pfn_database", m->pfn_database);
    mk_json_hex(kj, "physical_memory_block", m->phys_desc);
    mk_json_hex(kj, "ob_header_cookie", m->ob_cookie);
    mk_json *pc = mk_json_arr(kj, "kpcr");
    for (int i = 0; i < m->ncpus; i++)
        mk_json_hex(pc, NULL, m->kpcr[i]);
    mk_json *ot = mk_json_arr(kj, "object_types");
    for (int i = 0; i < m->ntypes; i++) {
        mk_json *t = mk_json_obj(ot, NULL);
        mk_json_str(t, "name", m->types[i].name);
        mk_json_num(t, "index", m->types[i].index);
        mk_json_hex(t, "va", m->types[i].va);
    }
    mk_json *rg = mk_json_obj(kj, "regions");
    for (int i = 0; i < MK_KR_COUNT; i++)
        if (m->kr[i].name)
            mk_json_hex(rg, m->kr[i].name, m->kr[i].base);
    mk_json *fn = mk_json_arr(kj, "functions");
    for (size_t i = 0; i < k->nfuncs; i++) {
        const mk_kfunc *f = &k->funcs[i];
        mk_json *o = mk_json_obj(fn, NULL);
        mk_json_str(o, "name", f->name);
        mk_json_hex(o, "va", f->va);
        mk_json_hex(o, "size", f->size);
        mk_json_bool(o, "pdata", f->has_pdata);
        if (f->has_pdata) {
            mk_json_hex(o, "frame_size", f->frame_size);
            mk_json_hex(o, "alloc", f->alloc);
            mk_json_num(o, "pushes", f->npush);
            mk_json_num(o, "machframe", f->machframe);
        }
    }
}

static void truth_modules(mk_json *arr, const mk_module *mods, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        mk_json *o = mk_json_obj(arr, NULL);
        mk_json_str(o, "name", mods[i].name);
        mk_json_str(o, "path", mods[i].path);
        mk_json_hex(o, "base", mods[i].base);
        mk_json_hex(o, "size", mods[i].size);
        mk_json_hex(o, "timestamp", mods[i].timestamp);
        mk_json_hex(o, "ldr_entry", mods[i].ldr_entry);
    }
}

static void truth_processes(mk_machine *m)
{
    mk_json *arr = mk_json_arr(m->truth, "processes");
    for (size_t i = 0; i < m->nprocs; i++) {
        const mk_process *p = m->procs[i];
        mk_json *o = mk_json_obj(arr, NULL);
        mk_json_num(o, "pid", p->pid);
        mk_json_num(o, "ppid", p->ppid);
        mk_json_str(o, "name", p->name);
        mk_json_hex(o, "eprocess", p->eprocess);
        mk_json_hex(o, "dtb", p->dtb);
        mk_json_hex(o, "directory_table_base", p->dtb_value);
        mk_json_num(o, "session", p->session);
        mk_json_hex(o, "create_time", p->create_time);
        mk_json_hex(o, "object_table", p->object_table);
        mk_json_num(o, "handle_count", p->handle_count);
        mk_json_hex(o, "token", p->token);
        mk_json_num(o, "commit_pages", (int64_t)p->commit_pages);
        mk_json_num(o, "working_set_pages", (int64_t)p->ws_pages);
        mk_json_hex(o, "virtual_size", p->virtual_size);
        mk_json_str(o, "audit_image_name", p->nt_path);
        mk_json_hex(o, "peb", p->peb);
        if (!p->peb)
            continue;
        mk_json_hex(o, "image_base", p->image_base);
        mk_json_str(o, "image_path", p->image_path);
        mk_json_str(o, "command_line", p->cmdline);
        mk_json_str(o, "current_directory", p->curdir);
        mk_json_str(o, "window_title", p->title);
        mk_json_hex(o, "process_parameters", p->params);
        mk_json_hex(o, "ldr", p->ldr);
        mk_json_hex(o, "process_heap", p->process_heap);
        mk_json *h = mk_json_arr(o, "heaps");
        for (int k = 0; k < p->nheaps; k++)
            mk_json_hex(h, NULL, p->heaps[k]);
        mk_json *env = mk_json_obj(o, "environment");
        mk_json_hex(env, "va", p->environment);
        mk_json_hex(env, "size", p->env_size);
        mk_json *vars = mk_json_obj(env, "vars");
        for (size_t k = 0; k < p->env.n; k++) {
            char name[128];
            const char *eq = strchr(p->env.vars[k], '=');
            snprintf(name, sizeof name, "%.*s", (int)(eq - p->env.vars[k]), p->env.vars[k]);
            mk_json_str(vars, name, eq + 1);
        }
        truth_modules(mk_json_arr(o, "modules"), p->mods, p->nmods);
    }
}

int mk_truth_begin(mk_machine *m)
{
    mk_json *t = m->truth;
    char g[33], ga[48];
    mk_json_str(t, "format", "ntscope-mkdump-truth");
    mk_json_num(t, "version", 1);
    mk_json *gen = mk_json_obj(t, "generator");
    mk_json_hex(gen, "seed", m->opt.seed);
    mk_json_str(gen, "scenario", m->opt.scenario_seed ? "seed" : "default");
    mk_json_num(gen, "extra_processes", m->opt.extra_processes);
    mk_json_hex(gen, "ram_bytes", m->opt.ram_bytes);
    mk_json_bool(gen, "isf_supplement", m->db2 != NULL);
    mk_json *b = mk_json_obj(t, "build");
    mk_json_num(b, "build", m->bld.build);
    mk_json_num(b, "revision", m->bld.revision);
    mk_json_str(b, "name", m->bld.name);
    mk_json_str(b, "build_lab", m->bld.build_lab);
    mk_json_str(b, "pdb", "ntkrnlmp.pdb");
    guid_string(m->bld.guid, g);
    mk_json_str(b, "guid", g);
    mk_json_num(b, "age", m->bld.age);
    snprintf(ga, sizeof ga, "%s%X", g, m->bld.age);
    mk_json_str(b, "guid_age", ga);
    return 0;
}

int mk_truth_machine(mk_machine *m)
{
    mk_json *t = m->truth;

    const dw_header64 *h = dw_header(m->img);
    mk_json *hj = mk_json_obj(t, "header");
    mk_json_num(hj, "dump_type", m->opt.bitmap ? 5 : 1);
    mk_json_hex(hj, "major_version", h->MajorVersion);
    mk_json_num(hj, "minor_version", h->MinorVersion);
    mk_json_hex(hj, "directory_table_base", h->DirectoryTableBase);
    mk_json_hex(hj, "pfn_database", h->PfnDataBase);
    mk_json_hex(hj, "ps_loaded_module_list", h->PsLoadedModuleList);
    mk_json_hex(hj, "ps_active_process_head", h->PsActiveProcessHead);
    mk_json_hex(hj, "kd_debugger_data_block", h->KdDebuggerDataBlock);
    mk_json_hex(hj, "machine_image_type", h->MachineImageType);
    mk_json_num(hj, "number_processors", h->NumberProcessors);
    mk_json_hex(hj, "bugcheck_code", h->BugCheckCode);
    mk_json *bp = mk_json_arr(hj, "bugcheck_parameters");
    for (int i = 0; i < 4; i++)
        mk_json_hex(bp, NULL, h->BugCheckCodeParameter[i]);
    mk_json_hex(hj, "system_time", h->SystemTime);
    mk_json_hex(hj, "system_up_time", h->SystemUpTime);
    mk_json_str(hj, "comment", h->Comment);
    mk_json *cj = mk_json_obj(hj, "context");
    mk_json_hex(cj, "rip", h->Context.Rip);
    mk_json_hex(cj, "rsp", h->Context.Rsp);
    mk_json_hex(cj, "rbp", h->Context.Rbp);
    mk_json_hex(cj, "rcx", h->Context.Rcx);
    mk_json_hex(cj, "seg_cs", h->Context.SegCs);
    mk_json_hex(cj, "eflags", h->Context.EFlags);

    mk_json *ph = mk_json_obj(t, "physical");
    mk_json *runs = mk_json_arr(ph, "runs");
    for (size_t i = 0; i < dw_run_count(m->img); i++) {
        uint64_t base, count;
        dw_get_run(m->img, i, &base, &count);
        mk_json *r = mk_json_obj(runs, NULL);
        mk_json_hex(r, "base_page", base);
        mk_json_hex(r, "page_count", count);
    }
    mk_json_hex(ph, "number_of_pages", dw_total_pages(m->img));
    mk_json *pg = mk_json_obj(t, "paging");
    mk_json_hex(pg, "system_dtb", m->system_dtb);
    mk_json_hex(pg, "selfmap_index", m->selfmap);
    mk_json_hex(pg, "pte_base", dw_as_selfmap_base(m->kas));

    truth_kernel(m);
    truth_modules(mk_json_arr(t, "kernel_modules"), m->kmods, m->nkmods);
    truth_processes(m);
    return 0;
}

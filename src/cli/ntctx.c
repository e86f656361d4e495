/*
 * cli/ntctx.c - the session's view of the kernel object model (ntctx.h):
 * the implicit process and thread, a cache of process spaces and user
 * module sets, symbol names and the stack walks' module resolver.
 *
 * Layer: commands. A slot of the cache holds one process's address space
 * (nts_process_vas) and, once asked for, its user modules (PEB.Ldr) as a
 * symbol set whose images are read through that space. The implicit
 * process's slot is pinned (s->vas is its space); the others go least
 * recently used first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "ntctx.h"
#include "symsession.h"

#define NTCTX_SLOTS 8
#define KERNEL_SPACE_START 0xffff800000000000ull

typedef struct pslot {
    uint64_t eprocess;   /* 0: free */
    nts_vas *vas;        /* owned */
    nts_symbols *usyms;  /* owned; NULL until loaded (or when there are none) */
    int usyms_tried;
    size_t umods;
    char problem[256];   /* why the user modules are missing or cut */
    uint64_t used;       /* LRU stamp */
} pslot;

typedef struct resolver_ctx {
    nts_session *s;
    uint64_t eprocess;
} resolver_ctx;

struct nts_ntctx {
    pslot slot[NTCTX_SLOTS];
    uint64_t clock;
    resolver_ctx rc;
};

static struct nts_ntctx *ctx_of(nts_session *s)
{
    if (!s->ntctx)
        s->ntctx = calloc(1, sizeof *s->ntctx);
    return s->ntctx;
}

nts_kernel *ntctx_need_kernel(nts_session *s)
{
    if (s->kernel)
        return s->kernel;
    if (!s->dump)
        cmd_error(s, "No dump is open");
    else
        cmd_error(s, "The kernel object model is not available: %s",
                  s->kernel_error[0] ? s->kernel_error : "no kernel was found");
    return NULL;
}

/* The crashing processor's thread and its process, once. */
static void find_crash_context(nts_session *s)
{
    if (s->ctx_known || !s->kernel)
        return;
    s->ctx_known = 1;
    uint64_t ethread = 0;
    if (nts_kernel_crash_thread(s->kernel, NULL, &ethread) != NTS_OK || !ethread)
        return;
    s->cur_thread = ethread;
    nts_thread_info t;
    if (nts_thread_read(s->kernel, ethread, &t) == NTS_OK || t.process || t.apc_process)
        s->cur_process = t.apc_process ? t.apc_process : t.process;
}

uint64_t ntctx_thread(nts_session *s)
{
    find_crash_context(s);
    return s->cur_thread;
}

uint64_t ntctx_process(nts_session *s)
{
    find_crash_context(s);
    return s->cur_process;
}

uint64_t ntctx_default_process(nts_session *s)
{
    uint64_t ethread = 0;
    nts_thread_info t;
    if (!s->kernel || nts_kernel_crash_thread(s->kernel, NULL, &ethread) != NTS_OK || !ethread)
        return 0;
    nts_thread_read(s->kernel, ethread, &t);
    return t.apc_process ? t.apc_process : t.process;
}

uint64_t ntctx_thread_process(nts_session *s, uint64_t ethread)
{
    nts_thread_info t;
    if (!s->kernel || !ethread)
        return 0;
    nts_thread_read(s->kernel, ethread, &t);
    return t.process;
}

void ntctx_set_thread(nts_session *s, uint64_t ethread)
{
    find_crash_context(s);
    s->cur_thread = ethread;
}

/* ---- the cache ---------------------------------------------------------------------- */

static void slot_clear(nts_session *s, pslot *p)
{
    nts_symbols_free(p->usyms);
    if (p->vas && p->vas == s->vas)
        s->vas = s->kvas;
    nts_vas_close(p->vas);
    memset(p, 0, sizeof *p);
}

static int pinned(nts_session *s, const pslot *p)
{
    return p->vas && p->vas == s->vas;
}

/* The slot of eprocess, opened on demand. NULL on failure (message in nts_last_error). */
static pslot *slot_for(nts_session *s, uint64_t eprocess)
{
    struct nts_ntctx *c = ctx_of(s);
    if (!c || !s->kernel || !eprocess)
        return NULL;
    pslot *victim = NULL;
    for (int i = 0; i < NTCTX_SLOTS; i++) {
        pslot *p = &c->slot[i];
        if (p->eprocess == eprocess) {
            p->used = ++c->clock;
            return p;
        }
        if (pinned(s, p))
            continue;
        if (!victim || !p->eprocess || (victim->eprocess && p->used < victim->used))
            victim = p;
    }
    if (!victim)
        return NULL;
    nts_process_info pi;
    nts_status st = nts_process_read(s->kernel, eprocess, &pi);
    if (st != NTS_OK && !(pi.have & NTS_PROC_HAVE_BASIC))
        return NULL;
    nts_vas *vas = NULL;
    if (nts_process_vas(s->kernel, &pi, &vas) != NTS_OK)
        return NULL;
    slot_clear(s, victim);
    victim->eprocess = eprocess;
    victim->vas = vas;
    victim->used = ++c->clock;
    return victim;
}

nts_vas *ntctx_process_vas(nts_session *s, uint64_t eprocess)
{
    if (!eprocess)
        return s->kvas;
    pslot *p = slot_for(s, eprocess);
    return p ? p->vas : NULL;
}

nts_status ntctx_set_process(nts_session *s, uint64_t eprocess)
{
    find_crash_context(s);
    if (!s->kernel)
        return NTS_E_UNSUPPORTED;
    /* Unpin the old one first, so that the new one may take any slot. */
    nts_vas *old = s->vas;
    s->vas = s->kvas;
    pslot *p = slot_for(s, eprocess);
    if (!p) {
        s->vas = old;
        return NTS_E_NOT_FOUND; /* nts_last_error() says why */
    }
    s->vas = p->vas;
    s->cur_process = eprocess;
    return NTS_OK;
}

static void user_symbols_load(nts_session *s, pslot *p)
{
    nts_process_info pi;
    nts_module_list *l = NULL;
    p->usyms_tried = 1;
    p->umods = 0;
    p->problem[0] = 0;
    nts_status st = nts_process_read(s->kernel, p->eprocess, &pi);
    if (st != NTS_OK && !(pi.have & NTS_PROC_HAVE_BASIC)) {
        snprintf(p->problem, sizeof p->problem, "%s", nts_last_error());
        return;
    }
    if (!pi.peb) {
        snprintf(p->problem, sizeof p->problem, "the process has no PEB");
        return;
    }
    st = nts_process_modules(s->kernel, p->vas, pi.peb, &l);
    if (st != NTS_OK && st != NTS_E_TRUNCATED) {
        snprintf(p->problem, sizeof p->problem, "%s", nts_last_error());
        nts_module_list_free(l);
        return;
    }
    if (st == NTS_E_TRUNCATED && l)
        snprintf(p->problem, sizeof p->problem, "%s", l->walk.reason);
    nts_sympath_options o;
    memset(&o, 0, sizeof o);
    o.offline = 1; /* user modules never download */
    if (nts_symbols_new(&p->usyms, session_sympath(s), &o) != NTS_OK) {
        snprintf(p->problem, sizeof p->problem, "%s", nts_last_error());
        nts_module_list_free(l);
        return;
    }
    for (size_t i = 0; l && i < l->count; i++) {
        const nts_module_info *m = &l->items[i];
        char unnamed[40];
        nts_symmod_desc d = {.image_name = m->base_name[0] ? m->base_name : NULL,
                             .image_path = m->full_name[0] ? m->full_name : NULL,
                             .base = m->base, .size = m->size, .timestamp = m->timestamp,
                             .checksum = m->checksum, .vas = p->vas};
        if (!d.image_name) {
            snprintf(unnamed, sizeof unnamed, "module_%llx", (unsigned long long)m->base);
            d.name = unnamed;
        }
        if (nts_symbols_add(p->usyms, &d, NULL) == NTS_OK)
            p->umods++;
    }
    nts_module_list_free(l);
}

nts_symbols *ntctx_user_symbols(nts_session *s, uint64_t eprocess, int reload, size_t *count)
{
    pslot *p = slot_for(s, eprocess);
    if (count)
        *count = 0;
    if (!p)
        return NULL;
    if (reload) {
        nts_symbols_free(p->usyms);
        p->usyms = NULL;
        p->usyms_tried = 0;
    }
    if (!p->usyms_tried)
        user_symbols_load(s, p);
    if (count)
        *count = p->umods;
    return p->usyms;
}

const char *ntctx_user_walk_problem(nts_session *s, uint64_t eprocess)
{
    struct nts_ntctx *c = ctx_of(s);
    for (int i = 0; c && i < NTCTX_SLOTS; i++)
        if (c->slot[i].eprocess == eprocess)
            return c->slot[i].problem;
    return "";
}

/* The set holding va: the kernel's for kernel addresses, eprocess's user modules
 * otherwise (none when eprocess is 0). */
static nts_symbols *set_for(nts_session *s, uint64_t eprocess, uint64_t va)
{
    if (s->umode) /* a process dump: its ModuleList is the session's set */
        return session_symbols(s);
    if (va >= KERNEL_SPACE_START)
        return session_symbols(s);
    return eprocess ? ntctx_user_symbols(s, eprocess, 0, NULL) : NULL;
}

uint64_t ntctx_user_process_for(nts_session *s, uint64_t owner)
{
    return owner && owner == ntctx_process(s) ? owner : 0;
}

const char *ntctx_symbolize(nts_session *s, uint64_t eprocess, uint64_t va, char *buf, size_t n)
{
    nts_symbols *syms = set_for(s, eprocess, va);
    if (n)
        buf[0] = 0;
    if (!syms || nts_symbols_name(syms, va, buf, n) != NTS_OK) {
        if (n)
            buf[0] = 0;
        return NULL;
    }
    return buf;
}

const char *ntctx_call_site(nts_session *s, uint64_t eprocess, uint64_t va, char *buf, size_t n)
{
    if (ntctx_symbolize(s, eprocess, va, buf, n))
        return buf;
    snprintf(buf, n, "0x%08llx`%08llx", (unsigned long long)(va >> 32), (unsigned long long)(va & 0xffffffffu));
    return buf;
}

int ntctx_module_of(nts_session *s, uint64_t eprocess, uint64_t va, const char **name,
                    const char **image_name, uint64_t *base)
{
    nts_symbols *syms = set_for(s, eprocess, va);
    size_t i;
    nts_symmod_info mi;
    if (!syms || nts_symbols_module_by_va(syms, va, &i) != NTS_OK || nts_symbols_module(syms, i, &mi) != NTS_OK)
        return -1;
    if (name)
        *name = mi.name;
    if (image_name)
        *image_name = mi.image_name;
    if (base)
        *base = mi.base;
    return 0;
}

/* ---- the resolver ---------------------------------------------------------------------- */

static nts_pe *image_for(void *ctx, uint64_t ip, uint64_t *base)
{
    resolver_ctx *rc = ctx;
    nts_symbols *syms = set_for(rc->s, rc->eprocess, ip);
    size_t i;
    nts_pe *pe;
    nts_symmod_info mi;
    if (!syms || nts_symbols_module_by_va(syms, ip, &i) != NTS_OK ||
        nts_symbols_module_image(syms, i, &pe) != NTS_OK || nts_symbols_module(syms, i, &mi) != NTS_OK)
        return NULL;
    *base = mi.base;
    return pe;
}

nts_module_resolver ntctx_resolver(nts_session *s, uint64_t eprocess)
{
    nts_module_resolver r = {NULL, image_for};
    struct nts_ntctx *c = ctx_of(s);
    if (!c) {
        r.image_for = NULL;
        return r;
    }
    c->rc.s = s;
    c->rc.eprocess = eprocess;
    r.ctx = &c->rc;
    return r;
}

void ntctx_free(nts_session *s)
{
    struct nts_ntctx *c = s->ntctx;
    if (!c)
        return;
    for (int i = 0; i < NTCTX_SLOTS; i++)
        slot_clear(s, &c->slot[i]);
    free(c);
    s->ntctx = NULL;
}

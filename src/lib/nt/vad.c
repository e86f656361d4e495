/*
 * nt/vad.c - a process's VAD tree (EPROCESS.VadRoot), walked in address
 * order (see ntscope/vad.h).
 *
 * Layer: nt object model. The tree is an RTL_AVL_TREE whose Root and the
 * nodes' Left/Right point at RTL_BALANCED_NODEs, the VadNode member of each
 * _MMVAD_SHORT (the node address less VadNode's offset is the VAD). Every
 * offset and bit position comes from the kernel's type database. The nodes
 * are kernel pool: they are read through the kernel address space.
 *
 * The walk is in order with an explicit stack of at most 64 levels, at most
 * NTS_MAX_VADS nodes, a set of nodes seen (a node met twice is a cycle),
 * and stops at the first node that cannot be read or breaks the address order
 * (a range ending before it starts, or not after the one before it), with
 * the reason in walk: callers get ordered, non-overlapping ranges.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntscope/vad.h"
#include "nt/heap/heap_internal.h"
#include "nt/kernel_internal.h"
#include "nt/mm_field.h"
#include "util/budget.h"
#include "util/error.h"

#define VAD_MAX_DEPTH 64
#define VAD_READ_MAX 0x200 /* bytes of a node read (an _MMVAD is 0x88 on Windows 10/11) */

typedef struct vad_off {
    nts__mf root;                   /* _EPROCESS.VadRoot(.Root) */
    nts__mf node, left, right;      /* _MMVAD_SHORT.VadNode, .VadNode.Left/Right */
    nts__mf svpn, evpn, svpn_hi, evpn_hi;
    nts__mf vad_type, protection, private_memory, commit;
    nts__mf short_size, long_size, subsection;
    nts__mf ss_control_area, ca_file_pointer, fo_file_name;
    nts__mf us_length, us_buffer;
} vad_off;

static int vad_offsets(nts_typedb *db, vad_off *o)
{
    memset(o, 0, sizeof *o);
    nts__mf vr;
    if (!nts__mf_find(db, &vr, "_EPROCESS.VadRoot", NULL))
        return 0;
    nts__mf r;
    if (!nts__mf_find(db, &r, "_RTL_AVL_TREE.Root", NULL))
        return 0;
    o->root = vr;
    o->root.off = vr.off + r.off;
    o->root.size = r.size;
    int ok = nts__mf_find(db, &o->node, "_MMVAD_SHORT.VadNode", NULL) &&
             nts__mf_find(db, &o->left, "_MMVAD_SHORT.VadNode.Left", "_MMVAD_SHORT.VadNode.LeftChild", NULL) &&
             nts__mf_find(db, &o->right, "_MMVAD_SHORT.VadNode.Right", "_MMVAD_SHORT.VadNode.RightChild", NULL) &&
             nts__mf_find(db, &o->svpn, "_MMVAD_SHORT.StartingVpn", NULL) &&
             nts__mf_find(db, &o->evpn, "_MMVAD_SHORT.EndingVpn", NULL) &&
             nts__mf_find(db, &o->short_size, "_MMVAD_SHORT", NULL);
    if (!ok || o->short_size.size > VAD_READ_MAX)
        return 0;
    nts__mf_find(db, &o->svpn_hi, "_MMVAD_SHORT.StartingVpnHigh", NULL);
    nts__mf_find(db, &o->evpn_hi, "_MMVAD_SHORT.EndingVpnHigh", NULL);
    nts__mf_find(db, &o->vad_type, "_MMVAD_SHORT.u.VadFlags.VadType", NULL);
    nts__mf_find(db, &o->protection, "_MMVAD_SHORT.u.VadFlags.Protection", NULL);
    nts__mf_find(db, &o->private_memory, "_MMVAD_SHORT.u.VadFlags.PrivateMemory",
                 "_MMVAD_SHORT.u1.VadFlags1.PrivateMemory", NULL);
    nts__mf_find(db, &o->commit, "_MMVAD_SHORT.u1.VadFlags1.CommitCharge", "_MMVAD_SHORT.u.VadFlags.CommitCharge",
                 NULL);
    if (nts__mf_find(db, &o->long_size, "_MMVAD", NULL) && o->long_size.size <= VAD_READ_MAX &&
        nts__mf_find(db, &o->subsection, "_MMVAD.Subsection", NULL) &&
        nts__mf_find(db, &o->ss_control_area, "_SUBSECTION.ControlArea", NULL) &&
        nts__mf_find(db, &o->ca_file_pointer, "_CONTROL_AREA.FilePointer", NULL) &&
        nts__mf_find(db, &o->fo_file_name, "_FILE_OBJECT.FileName", NULL) &&
        nts__mf_find(db, &o->us_length, "_UNICODE_STRING.Length", NULL) &&
        nts__mf_find(db, &o->us_buffer, "_UNICODE_STRING.Buffer", NULL)) {
        /* the file chain is readable */
    } else {
        o->subsection.size = 0;
    }
    return 1;
}

/* ---- Walk state ---------------------------------------------------------- */

typedef struct vad_walk {
    nts_kernel *k;
    const vad_off *o;
    nts_vad_list *l;
    size_t cap;
    heap_vset seen; /* nodes met (the library's address set, shared with the heap walks) */
} vad_walk;

static nts_status stop(vad_walk *w, nts_walk_stop why, uint64_t at, nts_status st, const char *fmt, ...)
    NTS_PRINTF(5, 6);

static nts_status stop(vad_walk *w, nts_walk_stop why, uint64_t at, nts_status st, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    nts_walk *wk = &w->l->walk;
    wk->stop = why;
    wk->at = at;
    wk->status = st;
    snprintf(wk->reason, sizeof wk->reason, "VAD walk truncated at %016" PRIx64 ": %s", at, msg);
    return nts__fail(NTS_E_TRUNCATED, "%s", wk->reason);
}

/* An integer field of the object at va (1..8 bytes); 0 if unreadable. */
static int read_field(vad_walk *w, uint64_t va, nts__mf f, uint64_t *v)
{
    uint8_t buf[8];
    *v = 0;
    if (f.size == 0 || f.size > 8 || nts__read_obj(w->k->vas, va + f.off, buf, f.size, NULL) != NTS_OK)
        return 0;
    for (unsigned i = 0; i < f.size; i++)
        *v |= (uint64_t)buf[i] << (8 * i);
    return 1;
}

/* The file a mapped or image view names (best effort: no walk stop). */
static void read_file(vad_walk *w, const uint8_t *b, size_t n, nts_vad *v)
{
    const vad_off *o = w->o;
    if (!nts__mf_has(o->subsection) || n < o->long_size.size)
        return;
    uint64_t ss = nts__mf_get(b, n, o->subsection), ca, fp;
    if (!ss || !nts__kernel_va(ss) || !read_field(w, ss, o->ss_control_area, &ca) || !ca || !nts__kernel_va(ca))
        return;
    v->control_area = ca;
    if (!read_field(w, ca, o->ca_file_pointer, &fp))
        return;
    fp &= ~0xfull; /* EX_FAST_REF: the low 4 bits are a reference count */
    v->have |= NTS_VAD_HAVE_FILE;
    if (!fp || !nts__kernel_va(fp))
        return;
    v->file_object = fp;
    uint8_t us[32];
    uint32_t us_size = o->fo_file_name.size;
    if (us_size > sizeof us || nts__read_obj(w->k->vas, fp + o->fo_file_name.off, us, us_size, NULL) != NTS_OK)
        return;
    uint64_t len = nts__mf_get(us, us_size, o->us_length), buffer = nts__mf_get(us, us_size, o->us_buffer);
    if (len == 0 || len > 0xfffe)
        return;
    if (nts__read_ustr_text(w->k, w->k->vas, buffer, (uint16_t)len, v->file_name, sizeof v->file_name) != NTS_OK)
        v->file_name[0] = 0;
}

static void decode(vad_walk *w, uint64_t vad, const uint8_t *b, size_t n, int level, nts_vad *v)
{
    const vad_off *o = w->o;
    memset(v, 0, sizeof *v);
    v->node = vad;
    v->level = level;
    v->start_vpn = nts__mf_get(b, n, o->svpn) | (nts__mf_get(b, n, o->svpn_hi) << 32);
    v->end_vpn = nts__mf_get(b, n, o->evpn) | (nts__mf_get(b, n, o->evpn_hi) << 32);
    v->start = v->start_vpn << 12;
    v->end = (v->end_vpn << 12) | 0xfff;
    if (nts__mf_has(o->vad_type) && nts__mf_has(o->protection) && nts__mf_has(o->private_memory)) {
        v->have |= NTS_VAD_HAVE_FLAGS;
        v->vad_type = (uint32_t)nts__mf_get(b, n, o->vad_type);
        v->protection = (uint32_t)nts__mf_get(b, n, o->protection);
        v->page_protect = nts_vad_page_protect(v->protection);
        v->private_memory = (int)nts__mf_get(b, n, o->private_memory);
    }
    if (nts__mf_has(o->commit)) {
        v->have |= NTS_VAD_HAVE_COMMIT;
        v->commit_charge = nts__mf_get(b, n, o->commit);
    }
    if ((v->have & NTS_VAD_HAVE_FLAGS) && (!v->private_memory || v->vad_type == NTS_VAD_IMAGE_MAP))
        read_file(w, b, n, v);
}

static nts_status push_item(vad_walk *w, const nts_vad *v)
{
    nts_vad_list *l = w->l;
    if (l->count == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 64;
        if (nc > NTS_MAX_VADS)
            nc = NTS_MAX_VADS;
        if (nts__budget_check((uint64_t)nc * sizeof *l->items, "the VAD list") != NTS_OK)
            return NTS_E_NOMEM;
        nts_vad *ni = realloc(l->items, nc * sizeof *ni);
        if (!ni)
            return nts__fail(NTS_E_NOMEM, "out of memory for %zu VADs", nc);
        l->items = ni;
        w->cap = nc;
    }
    l->items[l->count++] = *v;
    return NTS_OK;
}

typedef struct frame {
    nts_vad v;
    uint64_t right; /* the right child's VadNode address */
} frame;

/* Read the node whose VadNode is at link, push it; *left = its left child. */
static nts_status enter(vad_walk *w, uint64_t link, int level, frame *f, uint64_t *left)
{
    const vad_off *o = w->o;
    if (!nts__kernel_va(link))
        return stop(w, NTS_WALK_BAD_LINK, link, NTS_OK, "a VAD link %016" PRIx64 " is not a kernel address", link);
    uint64_t vad = link - o->node.off;
    int seen = nts__heap_vset_add(&w->seen, vad);
    if (seen < 0)
        return nts__fail(NTS_E_NOMEM, "out of memory for the VAD walk");
    if (seen == 1)
        return stop(w, NTS_WALK_CYCLE, vad, NTS_OK, "the VAD %016" PRIx64 " came round again (a cycle)", vad);
    if (w->seen.n > NTS_MAX_VADS)
        return stop(w, NTS_WALK_CAP, vad, NTS_OK, "more than %u VADs", NTS_MAX_VADS);
    uint8_t b[VAD_READ_MAX];
    size_t want = nts__mf_has(o->long_size) ? o->long_size.size : o->short_size.size, got = 0;
    nts_status st = nts__read_obj(w->k->vas, vad, b, want, &got);
    if (st != NTS_OK && got < o->short_size.size)
        return stop(w, NTS_WALK_UNREADABLE, vad, st, "the VAD %016" PRIx64 " cannot be read (%s)", vad,
                    nts_status_name(st));
    decode(w, vad, b, got, level, &f->v);
    *left = nts__mf_get(b, got, o->left);
    f->right = nts__mf_get(b, got, o->right);
    return NTS_OK;
}

static nts_status walk_tree(vad_walk *w, uint64_t root)
{
    frame *stk = malloc(VAD_MAX_DEPTH * sizeof *stk);
    if (!stk)
        return nts__fail(NTS_E_NOMEM, "out of memory for the VAD walk");
    int sp = 0;
    uint64_t next = root;
    int level = 0;
    nts_status st = NTS_OK;
    for (;;) {
        while (next) {
            if (sp == VAD_MAX_DEPTH) {
                st = stop(w, NTS_WALK_CAP, next, NTS_OK, "the VAD tree is deeper than %d levels", VAD_MAX_DEPTH);
                goto out;
            }
            uint64_t left = 0;
            st = enter(w, next, level, &stk[sp], &left);
            if (st != NTS_OK)
                goto out;
            sp++;
            level++;
            next = left;
        }
        if (sp == 0)
            break;
        frame *f = &stk[--sp];
        level = f->v.level + 1;
        const nts_vad *prev = w->l->count ? &w->l->items[w->l->count - 1] : NULL;
        if (f->v.end_vpn < f->v.start_vpn || (prev && f->v.start_vpn <= prev->end_vpn)) {
            st = stop(w, NTS_WALK_BAD_LINK, f->v.node, NTS_OK,
                      "the VAD %016" PRIx64 " (%" PRIx64 "-%" PRIx64 ") is out of address order", f->v.node,
                      f->v.start_vpn, f->v.end_vpn);
            goto out;
        }
        st = push_item(w, &f->v);
        if (st != NTS_OK)
            goto out;
        next = f->right;
    }
out:
    free(stk);
    return st;
}

nts_status nts_process_vads(nts_kernel *k, uint64_t eprocess, nts_vad_list **out)
{
    if (!out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_process_vads: no output");
    *out = NULL;
    if (!k)
        return nts__fail(NTS_E_INVALID_ARG, "nts_process_vads: no kernel");
    vad_off o;
    if (!vad_offsets(k->db, &o))
        return nts__fail(NTS_E_UNSUPPORTED, "the type database lacks _EPROCESS.VadRoot or the _MMVAD_SHORT layout");
    nts_vad_list *l = calloc(1, sizeof *l);
    if (!l)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    vad_walk w = {k, &o, l, 0, {NULL, 0, 0}};
    uint8_t rb[8];
    nts_status st = NTS_OK;
    if (o.root.size > 8 || nts__read_obj(k->vas, eprocess + o.root.off, rb, o.root.size, NULL) != NTS_OK) {
        st = stop(&w, NTS_WALK_UNREADABLE, eprocess + o.root.off, NTS_E_NOT_PRESENT,
                  "EPROCESS.VadRoot of %016" PRIx64 " cannot be read", eprocess);
    } else {
        uint64_t root = 0;
        for (unsigned i = 0; i < o.root.size; i++)
            root |= (uint64_t)rb[i] << (8 * i);
        st = walk_tree(&w, root);
    }
    nts__heap_vset_free(&w.seen);
    if (st == NTS_E_NOMEM) {
        nts_vad_list_free(l);
        return st;
    }
    *out = l;
    return st;
}

void nts_vad_list_free(nts_vad_list *l)
{
    if (!l)
        return;
    free(l->items);
    free(l);
}

/*
 * nt/procdump_threads.c - the process dump's ThreadList: for each thread of
 * the process its id, suspend count (KTHREAD.SuspendCount), priority, TEB, the user registers of its trap frame
 * (an x64 CONTEXT record) and its stack from the user rsp to the TEB's
 * StackBase, copied into the file.
 *
 * Layer: nt object model. A thread without a user trap frame (a system
 * thread attached to the process, or a frame from kernel mode) gets a
 * CONTEXT with ContextFlags CONTEXT_AMD64 alone (no registers) and its
 * stack from StackLimit; it is counted (threads_without_context). A
 * thread's name (ETHREAD.ThreadName, Windows 10 1607 and later: a pointer
 * to a UNICODE_STRING) goes to the ThreadNames stream.
 */
#include <stdlib.h>
#include <string.h>

#include "nt/procdump_internal.h"

#define STACK_CAP (1u << 20)   /* bytes of stack copied per thread at most */
#define CONTEXT_AMD64 0x100000u
#define NAME_MAX_BYTES 0x1000u /* UTF-16 bytes of a thread name read at most */

/* ETHREAD.ThreadName's text, "" when there is none or it is unreadable. */
static void thread_name(nts_kernel *k, uint64_t ethread, uint64_t off, char *out, size_t n)
{
    nts_vas *kv = nts_kernel_vas(k);
    uint64_t us = 0, buffer;
    uint8_t hdr[16], text[NAME_MAX_BYTES];
    out[0] = 0;
    if (!off || nts_vas_read_u64(kv, ethread + off, &us) != NTS_OK || !us ||
        nts_vas_read(kv, us, hdr, sizeof hdr, NULL) != NTS_OK)
        return;
    uint16_t len = (uint16_t)(hdr[0] | hdr[1] << 8);
    buffer = 0;
    for (int i = 7; i >= 0; i--)
        buffer = buffer << 8 | hdr[8 + i];
    len &= (uint16_t)~1u;
    if (!len || !buffer)
        return;
    if (len > NAME_MAX_BYTES)
        len = NAME_MAX_BYTES;
    if (nts_vas_read(kv, buffer, text, len, NULL) == NTS_OK)
        nts__utf16_to_utf8(text, len / 2u, out, n);
}

nts_status pd_thread_names_write(pd_threads *t, pd_file *f, size_t *named)
{
    *named = 0;
    for (size_t i = 0; i < t->count; i++) {
        if (!t->items[i].name[0])
            continue;
        nts_status st = pd_write_string(f, t->items[i].name, &t->items[i].name_rva);
        if (st != NTS_OK)
            return st;
        (*named)++;
    }
    return NTS_OK;
}

void pd_thread_names_encode(const pd_threads *t, size_t named, uint8_t *buf)
{
    pd_w32(buf, (uint32_t)named);
    uint8_t *p = buf + 4;
    for (size_t i = 0; i < t->count; i++) {
        if (!t->items[i].name[0])
            continue;
        pd_w32(p, t->items[i].tid);
        pd_w64(p + 4, t->items[i].name_rva); /* RvaOfThreadName: an RVA64 */
        p += 12;
    }
}

static void put_thread(const pd_thread *t, uint8_t *p)
{
    pd_w32(p + 0, t->tid);
    pd_w32(p + 4, t->suspend_count);
    pd_w32(p + 8, t->priority_class);
    pd_w32(p + 12, t->priority);
    pd_w64(p + 16, t->teb);
    pd_w64(p + 24, t->stack.va);
    pd_w32(p + 32, t->stack.size);
    pd_w32(p + 36, t->stack.rva);
    pd_w32(p + 40, PD_CONTEXT_SIZE);
    pd_w32(p + 44, t->context_rva);
}

void pd_threads_encode(const pd_threads *t, uint8_t *buf)
{
    pd_w32(buf, (uint32_t)t->count);
    for (size_t i = 0; i < t->count; i++)
        put_thread(&t->items[i], buf + 4 + PD_THREAD_SIZE * i);
}

nts_status pd_copy_block(nts_vas *vas, pd_file *f, uint64_t va, uint64_t cap, pd_block *b)
{
    memset(b, 0, sizeof *b);
    b->va = va;
    if (f->off > UINT32_MAX - cap)
        return NTS_OK; /* past what a 32-bit RVA reaches: left empty */
    uint8_t *buf = malloc(64 * 1024);
    if (!buf)
        return nts__fail(NTS_E_NOMEM, "no memory for a block copy");
    uint64_t rva = f->off, done = 0;
    nts_status st = NTS_OK;
    while (done < cap) {
        size_t want = cap - done < 64 * 1024 ? (size_t)(cap - done) : 64 * 1024, got = 0;
        nts_vas_read(vas, va + done, buf, want, &got);
        if (got) {
            st = pd_file_append(f, buf, got, NULL);
            if (st != NTS_OK)
                break;
        }
        done += got;
        if (got < want)
            break;
    }
    free(buf);
    b->size = (uint32_t)done;
    b->rva = done ? (uint32_t)rva : 0;
    return st;
}

static nts_status one_thread(nts_kernel *k, nts_vas *vas, const nts_thread_info *ti, pd_file *f,
                             pd_thread *t, uint32_t *without)
{
    t->tid = (uint32_t)ti->tid;
    t->priority = (uint32_t)(int32_t)ti->priority;
    t->teb = ti->teb;
    nts_context_x64 c;
    memset(&c, 0, sizeof c);
    if (nts_thread_user_context(k, ti->ethread, &c) == NTS_OK) {
        t->has_user_context = 1;
        c.context_flags |= CONTEXT_AMD64;
    } else {
        memset(&c, 0, sizeof c);
        c.context_flags = CONTEXT_AMD64;
        (*without)++;
    }
    nts_teb_info teb;
    uint64_t lo = 0, hi = 0;
    if (ti->teb && nts_teb_read(k, vas, ti->teb, &teb) == NTS_OK && teb.stack_base > teb.stack_limit) {
        hi = teb.stack_base;
        lo = teb.stack_limit;
        if (t->has_user_context && c.rsp < hi && hi - c.rsp <= (64ull << 20))
            lo = c.rsp; /* from the stack pointer, as a live dump captures it */
    }
    if (hi > lo && hi - lo > STACK_CAP)
        hi = lo + STACK_CAP; /* keep the part nearest the stack pointer: the innermost frames */
    nts_status st = NTS_OK;
    if (hi > lo)
        st = pd_copy_block(vas, f, lo, hi - lo, &t->stack);
    else
        t->stack.va = t->has_user_context ? c.rsp : 0;
    if (st != NTS_OK)
        return st;
    uint8_t rec[PD_CONTEXT_SIZE];
    pd_context_encode(&c, rec);
    uint64_t rva = 0;
    if ((st = pd_file_align(f, 16)) != NTS_OK || (st = pd_file_append(f, rec, sizeof rec, &rva)) != NTS_OK)
        return st;
    if (rva > UINT32_MAX)
        return nts__fail(NTS_E_LIMIT, "the thread contexts lie past 4 GB of the file");
    t->context_rva = (uint32_t)rva;
    return NTS_OK;
}

nts_status pd_threads_write(nts_kernel *k, uint64_t eprocess, nts_vas *vas, uint32_t priority_class,
                            pd_file *f, pd_threads *out)
{
    memset(out, 0, sizeof *out);
    nts_thread_list *tl = NULL;
    nts_status st = nts_process_threads(k, eprocess, &tl);
    if (!tl)
        return st;
    out->items = calloc(tl->count ? tl->count : 1, sizeof *out->items);
    if (!out->items) {
        nts_thread_list_free(tl);
        return nts__fail(NTS_E_NOMEM, "no memory for %zu threads", tl->count);
    }
    st = NTS_OK;
    nts_typedb *db = nts_kernel_typedb(k);
    nts_field nf;
    uint64_t name_off = db && nts_type_field(db, "_ETHREAD.ThreadName", &nf) == NTS_OK && nf.size == 8
                            ? nf.offset : 0;
    uint64_t suspend_off = db && nts_type_field(db, "_ETHREAD.Tcb.SuspendCount", &nf) == NTS_OK &&
                                   nf.size == 1 && !nf.bit_len ? nf.offset : 0;
    out->tick_100ns = pd_tick_100ns(k);
    for (size_t i = 0; i < tl->count && st == NTS_OK; i++) {
        const nts_thread_info *ti = &tl->items[i];
        if (!(ti->have & NTS_THREAD_HAVE_BASIC))
            continue;
        pd_thread *t = &out->items[out->count];
        t->priority_class = priority_class;
        st = one_thread(k, vas, ti, f, t, &out->without_context);
        thread_name(k, ti->ethread, name_off, t->name, sizeof t->name);
        uint8_t sc = 0;
        if (suspend_off && nts_vas_read_u8(nts_kernel_vas(k), ti->ethread + suspend_off, &sc) == NTS_OK)
            t->suspend_count = sc; /* KTHREAD.SuspendCount */
        pd_thread_info_fill(ti, out->tick_100ns, t);
        if (st == NTS_OK)
            out->count++;
    }
    nts_thread_list_free(tl);
    return st;
}

void pd_threads_free(pd_threads *t)
{
    free(t->items);
    memset(t, 0, sizeof *t);
}

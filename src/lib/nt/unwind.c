/*
 * nt/unwind.c - virtual unwind of one x64 frame (nts_unwind_step).
 *
 * Layer: nt object model (execution state). Written from Microsoft's public
 * "x64 exception handling" and "x64 prolog and epilog" documents. Given the
 * state in a frame (rip, rsp, nonvolatiles), find the caller's state:
 *
 *   1. The image holding the instruction (the resolver) and its
 *      RUNTIME_FUNCTION (.pdata). A return address is looked up at rip - 1,
 *      so a call that ends a function is found in that function. No image
 *      or no entry: a leaf, whose return address is at [rsp].
 *   2. rip inside the prolog (offset < SizeOfProlog): only the unwind codes
 *      whose CodeOffset <= the offset have run, and only they are undone.
 *   3. rip in an epilog (first frame, or a frame a machine frame
 *      interrupted): the rest of the epilog is simulated from the code bytes
 *      (unwind_epilog.c) and nothing else is done.
 *   4. Otherwise every unwind code is undone, in array order (the reverse of
 *      the prolog's order), then those of each chained UNWIND_INFO
 *      (UNW_FLAG_CHAININFO, at most NTS_UNWIND_MAX_CHAIN deep), then the
 *      return address is popped - unless a UWOP_PUSH_MACHFRAME gave rip and
 *      rsp from a machine frame.
 *
 * Offsets of UWOP_SAVE_NONVOL(_FAR) count from the base of the fixed
 * allocation: rsp as it is in the body, or, with a frame register, that
 * register minus FrameOffset*16 once the prolog has set it. XMM saves are
 * skipped (only integer state is recovered). Every read goes through the
 * memory source and fails with the address; the working context is a copy,
 * so a failing step leaves the caller's untouched.
 */
#include <stdio.h>
#include <string.h>

#include "nt/unwind_internal.h"
#include "util/error.h"
#include "util/rd.h"

enum {
    UWOP_PUSH_NONVOL = 0,
    UWOP_ALLOC_LARGE = 1,
    UWOP_ALLOC_SMALL = 2,
    UWOP_SET_FPREG = 3,
    UWOP_SAVE_NONVOL = 4,
    UWOP_SAVE_NONVOL_FAR = 5,
    UWOP_EPILOG = 6, /* version 2: epilog descriptors, nothing to undo */
    UWOP_SAVE_XMM128 = 8,
    UWOP_SAVE_XMM128_FAR = 9,
    UWOP_PUSH_MACHFRAME = 10,
};

#define REG_RSP 4

/* ---- registers and reads ----------------------------------------------------------- */

uint64_t *nts__ctx_reg(nts_context_x64 *c, unsigned n)
{
    switch (n & 15) {
    case 0: return &c->rax;
    case 1: return &c->rcx;
    case 2: return &c->rdx;
    case 3: return &c->rbx;
    case 4: return &c->rsp;
    case 5: return &c->rbp;
    case 6: return &c->rsi;
    case 7: return &c->rdi;
    case 8: return &c->r8;
    case 9: return &c->r9;
    case 10: return &c->r10;
    case 11: return &c->r11;
    case 12: return &c->r12;
    case 13: return &c->r13;
    case 14: return &c->r14;
    default: return &c->r15;
    }
}

const char *nts__reg_name(unsigned n)
{
    static const char *const names[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                          "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
    return names[n & 15];
}

nts_status nts__unwind_vas_read(void *ctx, uint64_t va, void *buf, size_t n, size_t *nread)
{
    return nts_vas_read((nts_vas *)ctx, va, buf, n, nread);
}

nts_status nts__unwind_read_u64(const nts__unwind_mem *m, uint64_t va, uint64_t *out, const char *what)
{
    uint8_t b[8];
    size_t got = 0;
    if (va > UINT64_MAX - 7)
        return nts__fail(NTS_E_FORMAT, "%s at 0x%llx: the address wraps", what, (unsigned long long)va);
    nts_status st = m->read(m->ctx, va, b, sizeof b, &got);
    if (st != NTS_OK) {
        char why[256];
        snprintf(why, sizeof why, "%s", nts_last_error());
        return nts__fail(st, "%s at 0x%llx could not be read: %s", what, (unsigned long long)va, why);
    }
    *out = rd_u64(b);
    return NTS_OK;
}

/* Prefix the current message with where it happened. */
static nts_status wrap(nts_status st, const char *fmt, unsigned long long a, unsigned long long b)
{
    char why[320], where[160];
    snprintf(why, sizeof why, "%s", nts_last_error());
    snprintf(where, sizeof where, fmt, a, b);
    return nts__fail(st, "%s: %s", where, why);
}

/* ---- one UNWIND_INFO ------------------------------------------------------------- */

static nts_status get_info(nts_pe *pe, uint64_t base, const nts_pe_runtime_function *rf, nts_pe_unwind_info *ui)
{
    nts_status st = nts_pe_get_unwind_info(pe, rf->unwind, ui);
    if (st != NTS_OK)
        return wrap(st, "UNWIND_INFO of the function at 0x%llx (UnwindData RVA 0x%llx)",
                    (unsigned long long)(base + rf->begin), (unsigned long long)rf->unwind);
    return NTS_OK;
}

/*
 * Undo the codes of one UNWIND_INFO on *c. limited: only those with
 * CodeOffset <= off (rip inside the prolog). Sets *machine when a machine
 * frame gave rip and rsp.
 */
static nts_status apply(const nts__unwind_mem *m, const nts_pe_unwind_info *ui, uint64_t fn_va, int limited,
                        unsigned off, nts_context_x64 *c, int *machine, uint32_t *flags)
{
    nts_status st;
    unsigned fr = ui->frame_register;
    uint64_t frame_base = c->rsp;
    if (fr) {
        int established = !limited;
        for (size_t i = 0; i < ui->ncodes && !established; i++)
            if (ui->codes[i].op == UWOP_SET_FPREG && ui->codes[i].code_offset <= off)
                established = 1;
        if (fr == REG_RSP)
            return nts__fail(NTS_E_FORMAT, "UNWIND_INFO of the function at 0x%llx: FrameRegister is rsp",
                             (unsigned long long)fn_va);
        if (established)
            frame_base = *nts__ctx_reg(c, fr) - 16u * ui->frame_offset;
    }
    for (size_t i = 0; i < ui->ncodes && i < sizeof ui->codes / sizeof ui->codes[0]; i++) {
        const nts_pe_unwind_code *u = &ui->codes[i];
        if (limited && u->code_offset > off)
            continue;
        switch (u->op) {
        case UWOP_PUSH_NONVOL: {
            uint64_t v;
            if ((u->info & 15) == REG_RSP)
                return nts__fail(NTS_E_FORMAT, "UNWIND_INFO of the function at 0x%llx: UWOP_PUSH_NONVOL of rsp",
                                 (unsigned long long)fn_va);
            if ((st = nts__unwind_read_u64(m, c->rsp, &v, "saved register (UWOP_PUSH_NONVOL)")) != NTS_OK)
                return st;
            *nts__ctx_reg(c, u->info) = v;
            c->rsp += 8;
            break;
        }
        case UWOP_ALLOC_LARGE:
        case UWOP_ALLOC_SMALL:
            c->rsp += u->operand;
            break;
        case UWOP_SET_FPREG:
            if (!fr)
                return nts__fail(NTS_E_FORMAT,
                                 "UNWIND_INFO of the function at 0x%llx: UWOP_SET_FPREG but FrameRegister is 0",
                                 (unsigned long long)fn_va);
            c->rsp = *nts__ctx_reg(c, fr) - u->operand;
            *flags |= NTS_FRAME_FRAME_POINTER;
            break;
        case UWOP_SAVE_NONVOL:
        case UWOP_SAVE_NONVOL_FAR: {
            uint64_t v;
            if ((u->info & 15) == REG_RSP)
                return nts__fail(NTS_E_FORMAT, "UNWIND_INFO of the function at 0x%llx: UWOP_SAVE_NONVOL of rsp",
                                 (unsigned long long)fn_va);
            if ((st = nts__unwind_read_u64(m, frame_base + u->operand, &v, "saved register (UWOP_SAVE_NONVOL)")) !=
                NTS_OK)
                return st;
            *nts__ctx_reg(c, u->info) = v;
            break;
        }
        case UWOP_SAVE_XMM128:
        case UWOP_SAVE_XMM128_FAR:
        case UWOP_EPILOG:
            break;
        case UWOP_PUSH_MACHFRAME: {
            uint64_t rip, rsp;
            if (*machine)
                return nts__fail(NTS_E_FORMAT, "UNWIND_INFO of the function at 0x%llx: a second UWOP_PUSH_MACHFRAME",
                                 (unsigned long long)fn_va);
            if (u->info > 1)
                return nts__fail(NTS_E_FORMAT, "UNWIND_INFO of the function at 0x%llx: UWOP_PUSH_MACHFRAME info %u",
                                 (unsigned long long)fn_va, u->info);
            uint64_t frame = c->rsp + (u->info ? 8 : 0); /* past the error code */
            if ((st = nts__unwind_read_u64(m, frame, &rip, "machine frame RIP")) != NTS_OK ||
                (st = nts__unwind_read_u64(m, frame + 24, &rsp, "machine frame RSP")) != NTS_OK)
                return st;
            c->rip = rip;
            c->rsp = rsp;
            *machine = 1;
            break;
        }
        default:
            return nts__fail(NTS_E_UNSUPPORTED, "UNWIND_INFO of the function at 0x%llx: unwind op %u",
                             (unsigned long long)fn_va, u->op);
        }
    }
    return NTS_OK;
}

/* The primary entry of rf's chain, for naming and for the epilog's jump check (best effort). */
static nts_pe_runtime_function find_root(nts_pe *pe, const nts_pe_runtime_function *rf, nts_pe_unwind_info *ui,
                                         int *chained)
{
    nts_pe_runtime_function root = *rf;
    *chained = 0;
    for (int depth = 0; depth < NTS_UNWIND_MAX_CHAIN; depth++) {
        if (nts_pe_get_unwind_info(pe, root.unwind, ui) != NTS_OK || !ui->has_chain)
            break;
        root = ui->chained;
        *chained = 1;
    }
    return root;
}

static nts_status leaf(const nts__unwind_mem *m, nts_context_x64 *c)
{
    uint64_t ret;
    nts_status st = nts__unwind_read_u64(m, c->rsp, &ret, "return address at [rsp]");
    if (st != NTS_OK)
        return st;
    c->rip = ret;
    c->rsp += 8;
    return NTS_OK;
}

static nts_status unwind_function(const nts__unwind_mem *m, nts_pe *pe, uint64_t base,
                                  const nts_pe_runtime_function *rf, int exact, nts_context_x64 *c,
                                  nts_stack_frame *f)
{
    nts_pe_unwind_info ui;
    nts_status st;
    uint64_t begin = base + rf->begin, end = base + rf->end;
    uint64_t ip = c->rip;
    f->func_begin = begin;
    f->func_end = end;
    if ((st = get_info(pe, base, rf, &ui)) != NTS_OK)
        return st;

    uint64_t off = ip - begin; /* ip >= begin: the entry holds ip, or ip - 1 for a return address */
    int in_prolog = ip >= begin && off < ui.size_of_prolog;

    if (!in_prolog && exact && ip >= begin && ip < end) {
        int chained, result = NTS__EPILOG_NO;
        nts_pe_unwind_info tmp;
        unsigned fr = ui.frame_register;
        nts_pe_runtime_function root = find_root(pe, rf, &tmp, &chained);
        nts__epilog_fn fn = {begin, end, base + root.begin, base + root.end, fr};
        if ((st = nts__unwind_epilog(m, &fn, c, &result)) != NTS_OK)
            return st;
        if (result == NTS__EPILOG_YES) {
            f->flags |= NTS_FRAME_EPILOGUE | (chained ? NTS_FRAME_CHAINED : 0);
            f->func_begin = base + root.begin;
            f->func_end = base + root.end;
            return NTS_OK;
        }
        if (result == NTS__EPILOG_UNKNOWN)
            f->flags |= NTS_FRAME_CODE_UNREADABLE;
    }

    int machine = 0;
    if (in_prolog)
        f->flags |= NTS_FRAME_PROLOGUE;
    if ((st = apply(m, &ui, begin, in_prolog, (unsigned)off, c, &machine, &f->flags)) != NTS_OK)
        return st;
    for (int depth = 0; ui.has_chain; depth++) {
        nts_pe_runtime_function next = ui.chained;
        if (depth >= NTS_UNWIND_MAX_CHAIN)
            return nts__fail(NTS_E_LIMIT, "function at 0x%llx: more than %d chained UNWIND_INFOs",
                             (unsigned long long)begin, NTS_UNWIND_MAX_CHAIN);
        f->flags |= NTS_FRAME_CHAINED;
        f->func_begin = base + next.begin;
        f->func_end = base + next.end;
        if ((st = get_info(pe, base, &next, &ui)) != NTS_OK)
            return st;
        if ((st = apply(m, &ui, base + next.begin, 0, 0, c, &machine, &f->flags)) != NTS_OK)
            return st;
    }
    if (machine) {
        f->flags |= NTS_FRAME_MACHINE;
        return NTS_OK;
    }
    return leaf(m, c);
}

/* ---- the step ------------------------------------------------------------------------ */

static void save_regs(nts_frame_regs *r, const nts_context_x64 *c)
{
    r->rbx = c->rbx;
    r->rbp = c->rbp;
    r->rsi = c->rsi;
    r->rdi = c->rdi;
    r->r12 = c->r12;
    r->r13 = c->r13;
    r->r14 = c->r14;
    r->r15 = c->r15;
}

nts_status nts__unwind_step(const nts__unwind_mem *m, const nts_module_resolver *r, nts_context_x64 *ctx,
                            uint32_t in_flags, nts_stack_frame *f)
{
    if (!m || !m->read || !ctx || !f)
        return nts__fail(NTS_E_INVALID_ARG, "nts_unwind_step: NULL argument");
    memset(f, 0, sizeof *f);
    int from_return = (in_flags & NTS_UNWIND_RETURN_ADDRESS) != 0;
    nts_context_x64 c = *ctx;
    nts_status st;
    f->ip = c.rip;
    f->child_sp = c.rsp;
    f->call_site = from_return ? c.rip - 1 : c.rip;
    if (from_return)
        f->flags |= NTS_FRAME_FROM_RETURN;
    save_regs(&f->regs, &c);

    uint64_t base = 0;
    nts_pe *pe = r && r->image_for ? r->image_for(r->ctx, f->call_site, &base) : NULL;
    if (!pe) {
        f->flags |= NTS_FRAME_NO_MODULE | NTS_FRAME_NO_UNWIND_INFO;
        if (in_flags & NTS__UNWIND_NO_BLIND_LEAF)
            return nts__fail(NTS_E_NOT_FOUND, "0x%llx is in no known module: no unwind data, and [rsp] would be a guess",
                             (unsigned long long)f->ip);
        st = leaf(m, &c);
    } else {
        f->module_base = base;
        if (f->call_site < base || f->call_site - base > UINT32_MAX)
            return nts__fail(NTS_E_FORMAT, "the resolver placed 0x%llx in the image at 0x%llx, more than 4 GB away",
                             (unsigned long long)f->call_site, (unsigned long long)base);
        nts_pe_runtime_function rf;
        st = nts_pe_runtime_function_find(pe, (uint32_t)(f->call_site - base), &rf);
        if (st == NTS_E_NOT_FOUND) {
            f->flags |= NTS_FRAME_NO_UNWIND_INFO;
            st = leaf(m, &c);
        } else if (st != NTS_OK) {
            return wrap(st, "RUNTIME_FUNCTION for 0x%llx (image at 0x%llx)", (unsigned long long)f->call_site,
                        (unsigned long long)base);
        } else {
            st = unwind_function(m, pe, base, &rf, !from_return, &c, f);
        }
    }
    if (st != NTS_OK)
        return st;

    f->ret_addr = c.rip;
    if (!(f->flags & NTS_FRAME_MACHINE)) {
        uint8_t a[32];
        if (m->read(m->ctx, c.rsp, a, sizeof a, NULL) == NTS_OK) {
            for (int i = 0; i < 4; i++)
                f->args[i] = rd_u64(a + 8 * i);
        } else {
            f->flags |= NTS_FRAME_ARGS_UNREADABLE;
        }
    }
    *ctx = c;
    return NTS_OK;
}

nts_status nts_unwind_step(nts_vas *vas, const nts_module_resolver *r, nts_context_x64 *ctx, uint32_t in_flags,
                           nts_stack_frame *frame)
{
    if (!vas)
        return nts__fail(NTS_E_INVALID_ARG, "nts_unwind_step: NULL address space");
    nts__unwind_mem m = {nts__unwind_vas_read, vas};
    return nts__unwind_step(&m, r, ctx, in_flags & NTS_UNWIND_RETURN_ADDRESS, frame);
}

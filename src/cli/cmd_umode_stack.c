/*
 * cli/cmd_umode_stack.c - the k family on a process dump, and the stacks of
 * ~*k, ~N k and !analyze.
 *
 * Layer: commands. x64: the library's unwinder (nts_stack_walk through
 * cmd_stack.c's stack_walk) over the dump's memory, the modules' images
 * from the dump (headers and .pdata captured) or from PE files on the image
 * path / symbol path (cmd_umode_modules.c). x86: a frame-pointer (EBP)
 * chain walk, as WinDbg falls back to without FPO data: frame 0 is eip with
 * ebp; each next frame's return address is [ebp+4] and its ebp is [ebp]; the
 * walk stops at a zero or unreadable link, an ebp that does not go up, or
 * the frame cap. Functions built without frame pointers (FPO) are skipped
 * over or cut the chain; the last line says why the walk ended. x86 layout:
 *
 *    # ChildEBP RetAddr
 *   00 0012ff60 004011c4     test!main+0x6
 *
 * kb/kv add the first three arguments ([ebp+8], [ebp+0xc], [ebp+0x10]).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_umode.h"
#include "commands.h"
#include "ntctx.h"
#include "procthread.h"
#include "symsession.h"

#define X86_DEFAULT_FRAMES 256

typedef struct x86_frame {
    uint32_t ebp, ret, eip;
    uint32_t args[3];
    int args_ok;
} x86_frame;

/* Walk the EBP chain from (eip, ebp). Returns the frame count; *why says why it ended ("" at a 0 link). */
static size_t x86_walk(nts_session *s, uint32_t eip, uint32_t ebp, x86_frame *f, size_t max, char *why, size_t n)
{
    size_t k = 0;
    why[0] = 0;
    while (k < max) {
        uint32_t v[5];
        f[k].eip = eip;
        f[k].ebp = ebp;
        f[k].ret = 0;
        f[k].args_ok = 0;
        if (!ebp) {
            k++;
            break;
        }
        size_t got = 0;
        nts_vas_read(s->vas, ebp, v, sizeof v, &got);
        if (got < 8) {
            snprintf(why, n, "frame %02zx: the frame at ebp %08x is not in the dump", k, ebp);
            k++;
            break;
        }
        f[k].ret = v[1];
        if (got >= sizeof v) {
            memcpy(f[k].args, v + 2, sizeof f[k].args);
            f[k].args_ok = 1;
        }
        k++;
        if (!v[1] || !v[0])
            break;
        if (v[0] <= ebp) {
            snprintf(why, n, "frame %02zx: the next ebp %08x is not above %08x (frame-pointer omission or garbage)",
                     k - 1, v[0], ebp);
            break;
        }
        eip = v[1];
        ebp = v[0];
    }
    return k;
}

static int x86_stack(nts_session *s, const nts_context_x64 *ctx, unsigned style, uint64_t count)
{
    size_t max = count ? (size_t)count : X86_DEFAULT_FRAMES;
    if (max > NTS_STACK_MAX_FRAMES)
        max = NTS_STACK_MAX_FRAMES;
    x86_frame *f = calloc(max, sizeof *f);
    char why[200], site[600];
    if (!f)
        return cmd_error(s, "out of memory");
    size_t k = x86_walk(s, (uint32_t)ctx->rip, (uint32_t)ctx->rbp, f, max, why, sizeof why);
    if (s->json) {
        jw_key(s, "frames"), jw_begin_arr(s);
        for (size_t i = 0; i < k; i++) {
            jw_begin_obj(s);
            jw_ku64(s, "number", i);
            jw_khex(s, "child_ebp", f[i].ebp);
            jw_khex(s, "ret_addr", f[i].ret);
            jw_khex(s, "ip", f[i].eip);
            jw_kstr(s, "call_site", ntctx_symbolize(s, 0, f[i].eip, site, sizeof site));
            jw_key(s, "args");
            if (f[i].args_ok) {
                jw_begin_arr(s);
                for (int a = 0; a < 3; a++)
                    jw_hex(s, f[i].args[a]);
                jw_end_arr(s);
            } else {
                jw_null(s);
            }
            jw_end_obj(s);
        }
        jw_end_arr(s);
        jw_key(s, "stop"), jw_begin_obj(s);
        jw_kstr(s, "reason", why[0] ? "unreadable_or_bad_link" : k == max ? "max_frames" : "end");
        jw_kstr(s, "message", why[0] ? why : NULL);
        jw_kstr(s, "method", "ebp_chain");
        jw_end_obj(s);
        free(f);
        return 0;
    }
    if (style & STK_NO_HEADER)
        ;
    else
        out(s, "%s%s\n", (style & STK_NUMBERS) ? " # " : "",
            (style & STK_CALL_ONLY) ? "Call Site" : (style & STK_ARGS) ? "ChildEBP RetAddr  Args to Child              "
                                                                        : "ChildEBP RetAddr      ");
    for (size_t i = 0; i < k; i++) {
        ntctx_call_site(s, 0, f[i].eip, site, sizeof site);
        if (strncmp(site, "0x", 2) == 0) /* x86: the bare address is 8 digits */
            snprintf(site, sizeof site, "0x%08x", f[i].eip);
        if (style & STK_NUMBERS)
            out(s, "%02zx ", i);
        if (style & STK_CALL_ONLY) {
            char *plus = strchr(site, '!') ? strrchr(site, '+') : NULL;
            if (plus)
                *plus = 0;
            out(s, "%s\n", site);
        } else if (style & STK_ARGS) {
            out(s, "%08x %08x %08x %08x %08x %s\n", f[i].ebp, f[i].ret, f[i].args[0], f[i].args[1], f[i].args[2],
                site);
        } else {
            out(s, "%08x %08x     %s\n", f[i].ebp, f[i].ret, site);
        }
    }
    if (why[0])
        out(s, "WARNING: Stack walk stopped: %s\n", why);
    free(f);
    return 0;
}

int umode_stack_thread(nts_session *s, size_t thread, const nts_context_x64 *ctx, unsigned style, uint64_t count)
{
    (void)thread;
    if (s->umode->is_x86)
        return x86_stack(s, ctx, style, count);
    if (s->info->machine_image_type != NTS_MACHINE_AMD64)
        return cmd_error(s, "Stack walks of this machine (0x%x) are not supported", s->info->machine_image_type);
    stack_result r;
    if (stack_walk(s, 0, ctx, count > NTS_STACK_MAX_FRAMES ? NTS_STACK_MAX_FRAMES : (size_t)count, &r) != 0)
        return cmd_error(s, "%s", r.reason);
    if (s->json)
        stack_json(s, &r);
    else
        stack_print(s, &r, style, 0);
    stack_result_free(&r);
    return 0;
}

int umode_k(nts_session *s, unsigned style, const nts_context_x64 *ctx, uint64_t count)
{
    if (s->json) {
        jw_ku64(s, "thread", s->umode->cur);
        jw_kbool(s, "exception_context", s->umode->ecxr);
    } else if (s->umode->ecxr) {
        out(s, "  *** Stack trace for last set context - .thread/.cxr resets it\n");
    }
    return umode_stack_thread(s, s->umode->cur, ctx, style, count);
}

/*
 * cli/cmd_analyze.c - `!analyze [-v] [-show CODE [ARGS]]`: the bug check
 * analysis, in WinDbg's layout, limited to what the dump header and the
 * kernel address space tell without symbols.
 *
 * Layer: commands. The name, description and argument meanings come from the
 * bug check catalogue (ntscope/bugcheck.h); for the codes whose arguments
 * depend on Arg1 the subcode table gives Arg1's meaning and the others'.
 * WinDbg names the 0x10000000 variants with an "_M" suffix and their full
 * code: `SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M (1000007e)`.
 *
 * `-v` then prints "Debugging Details": the KEY_VALUES_STRING pairs that can
 * be computed honestly (this analysis's own CPU and elapsed time, the code,
 * the dump attributes), BUGCHECK_CODE/BUGCHECK_P1..P4, DUMP_FILE_ATTRIBUTES,
 * the exception record and the context of the exception:
 *   - 0x7E/0x1000007E: Arg3 is the exception record and Arg4 the context
 *     record (0x3B: Arg3 is the context record). They are read through the
 *     kernel address space. For the "_M" variants the dump header's context
 *     is the exception's own (its rip is the exception address, Arg2): when
 *     the record cannot be read and the rips agree, the header's is shown.
 *   - other codes: the header's exception record when its code is not 0
 *     (`EXCEPTION_RECORD:  (.exr -1)`) and the crashing processor's context
 *     from the header (`CONTEXT:  (.cxr)`).
 * PROCESS_NAME, STACK_TEXT, SYMBOL_NAME, MODULE_NAME, IMAGE_NAME,
 * STACK_COMMAND, FAILURE_BUCKET_ID and OSNAME come from the object model
 * (cmd_analyze_stack.c; docs/commands/processes.md); what the dump cannot
 * back is not printed (never guessed). See docs/commands/crash.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd_umode.h"
#include "commands.h"
#include "procthread.h"
#include "regs.h"
#include "symsession.h"

#define BUGCHECK_M_BIT 0x10000000u
#define FILL_PAGE32 0x45474150u /* 'PAGE': a header field never written */

/* ---- bug check helpers (regs.h) ---- */

int bugcheck_ptr_digits(const nts_session *s)
{
    return s->info && s->info->machine_image_type == NTS_MACHINE_I386 ? 8 : 16;
}

const char *bugcheck_name(uint32_t code, char *buf, size_t n)
{
    const nts_bugcheck_desc *d = nts_bugcheck_lookup(code);
    if (!d)
        return NULL;
    if (d->code != code && (code & BUGCHECK_M_BIT) && d->code == (code & ~BUGCHECK_M_BIT))
        snprintf(buf, n, "%s_M", d->name);
    else
        snprintf(buf, n, "%s", d->name);
    return buf;
}

const char *bugcheck_arg_meaning(uint32_t code, const uint64_t args[4], int i)
{
    const nts_bugcheck_desc *d = nts_bugcheck_lookup(code);
    if (!d || i < 0 || i > 3)
        return NULL;
    const nts_bugcheck_subcode *sub = nts_bugcheck_subcode_lookup(code, args[0]);
    if (sub)
        return i == 0 ? sub->meaning : sub->args[i - 1];
    return d->args[i];
}

void bugcheck_json(nts_session *s, uint32_t code, const uint64_t args[4])
{
    char nm[160];
    const nts_bugcheck_desc *d = nts_bugcheck_lookup(code);
    jw_key(s, "bugcheck");
    jw_begin_obj(s);
    jw_khex(s, "code", code);
    jw_kstr(s, "name", bugcheck_name(code, nm, sizeof nm));
    jw_kstr(s, "description", d ? d->description : NULL);
    jw_key(s, "args");
    jw_begin_arr(s);
    for (int i = 0; i < 4; i++) {
        jw_begin_obj(s);
        jw_khex(s, "value", args[i]);
        jw_kstr(s, "meaning", bugcheck_arg_meaning(code, args, i));
        jw_end_obj(s);
    }
    jw_end_arr(s);
    jw_end_obj(s);
}

/* ---- text ---- */

#define WRAP_COLUMNS 76

/* The description, each paragraph word-wrapped to WRAP_COLUMNS. */
static void print_wrapped(nts_session *s, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t plen = eol ? (size_t)(eol - p) : strlen(p);
        size_t col = 0;
        const char *q = p, *end = p + plen;
        while (q < end) {
            while (q < end && *q == ' ')
                q++;
            const char *w = q;
            while (q < end && *q != ' ')
                q++;
            size_t wl = (size_t)(q - w);
            if (!wl)
                break;
            if (col && col + 1 + wl > WRAP_COLUMNS) {
                out(s, "\n");
                col = 0;
            }
            if (col)
                out(s, " "), col++;
            out_write(s, w, wl);
            col += wl;
        }
        out(s, "\n");
        if (!eol)
            break;
        p = eol + 1;
    }
}

static void print_banner(nts_session *s)
{
    static const char stars[] =
        "*******************************************************************************";
    out(s, "%s\n", stars);
    out(s, "*%77s*\n", "");
    out(s, "*%24sBugcheck Analysis%36s*\n", "", "");
    out(s, "*%77s*\n", "");
    out(s, "%s\n\n", stars);
}

/* NAME (code), the description, Arguments: and Arg1..Arg4. */
static void print_bugcheck_block(nts_session *s, uint32_t code, const uint64_t args[4])
{
    char nm[160];
    const nts_bugcheck_desc *d = nts_bugcheck_lookup(code);
    int w = bugcheck_ptr_digits(s);
    if (d) {
        out(s, "%s (%x)\n", bugcheck_name(code, nm, sizeof nm), code);
        print_wrapped(s, d->description);
    } else {
        out(s, "Unknown bugcheck code (%x)\n", code);
        out(s, "Unknown bugcheck description\n");
    }
    out(s, "Arguments:\n");
    for (int i = 0; i < 4; i++) {
        const char *m = bugcheck_arg_meaning(code, args, i);
        if (m)
            out(s, "Arg%d: %0*llx, %s\n", i + 1, w, (unsigned long long)args[i], m);
        else
            out(s, "Arg%d: %0*llx\n", i + 1, w, (unsigned long long)args[i]);
    }
}

/* ---- what -v gathers before printing ---- */

typedef struct exc_info {
    int present;          /* a section is printed */
    int from_header;      /* the header's record (.exr -1) */
    uint64_t address;     /* record address (when not from the header) */
    int readable;
    char error[256];
    nts_exception_record rec;
} exc_info;

typedef struct ctx_info {
    int present;
    int from_header;      /* the body comes from the dump header */
    int header_only;      /* no address: the crashing processor's context (.cxr) */
    uint64_t address;
    int readable;
    char error[256];
    nts_context_x64 ctx;
} ctx_info;

static int read_kernel(nts_session *s, uint64_t va, void *buf, size_t n, char *err, size_t errn)
{
    if (!s->kvas) {
        snprintf(err, errn, "no kernel address space: %s", s->vas_error ? s->vas_error : "unavailable");
        return -1;
    }
    if (nts_vas_read(s->kvas, va, buf, n, NULL) != NTS_OK) {
        snprintf(err, errn, "%s", nts_last_error());
        return -1;
    }
    return 0;
}

static void gather(nts_session *s, uint32_t code, const uint64_t args[4], exc_info *ex, ctx_info *cx)
{
    const nts_dump_info *in = s->info;
    uint32_t base = code & ~BUGCHECK_M_BIT;
    int x64 = in->machine_image_type == NTS_MACHINE_AMD64;
    memset(ex, 0, sizeof *ex);
    memset(cx, 0, sizeof *cx);
    int exr_arg = base == 0x7E ? 2 : -1;
    int cxr_arg = base == 0x7E ? 3 : base == 0x3B ? 2 : -1;

    if (exr_arg >= 0 && args[exr_arg]) {
        uint8_t buf[NTS_EXCEPTION_RECORD64_SIZE];
        ex->present = 1;
        ex->address = args[exr_arg];
        if (x64 && read_kernel(s, ex->address, buf, sizeof buf, ex->error, sizeof ex->error) == 0)
            ex->readable = regs_decode_exception64(buf, sizeof buf, &ex->rec) == 0;
        else if (!x64)
            snprintf(ex->error, sizeof ex->error, "only x64 exception records are decoded");
    } else if (exr_arg < 0 && in->exception.code != 0 && in->exception.code != FILL_PAGE32) {
        ex->present = 1;
        ex->from_header = 1;
        ex->readable = 1;
        ex->rec = in->exception;
    }

    if (!x64)
        return; /* only the x64 context is decoded so far */
    if (cxr_arg >= 0 && args[cxr_arg]) {
        uint8_t buf[NTS_CONTEXT_X64_SIZE];
        cx->present = 1;
        cx->address = args[cxr_arg];
        if (read_kernel(s, cx->address, buf, sizeof buf, cx->error, sizeof cx->error) == 0) {
            cx->readable = regs_decode_context_x64(buf, sizeof buf, &cx->ctx) == 0;
        } else if ((code & BUGCHECK_M_BIT) && in->context.rip == args[1]) {
            /* "_M": the header holds the exception's context (same rip as Arg2). */
            cx->readable = 1;
            cx->from_header = 1;
            cx->ctx = in->context;
        }
    } else if (cxr_arg < 0) {
        cx->present = 1;
        cx->readable = 1;
        cx->from_header = 1;
        cx->header_only = 1;
        cx->ctx = in->context;
    }
}

static double ms_between(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1000.0 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* DUMP_FILE_ATTRIBUTES bits (mindumpdef.h) and the text WinDbg prints for them. */
static const struct {
    uint32_t bit;
    const char *name; /* field name of DUMP_FILE_ATTRIBUTES */
    const char *text; /* WinDbg's line, NULL where no sample shows it */
} attr_bits[] = {
    {0x001, "HiberCrash", NULL},
    {0x002, "DumpDevicePowerOff", NULL},
    {0x004, "InsufficientDumpfileSize", NULL},
    {0x008, "KernelGeneratedTriageDump", "Kernel Generated Triage Dump"},
    {0x010, "LiveDumpGeneratedDump", "Live Generated Dump"},
    {0x020, "DumpIsGeneratedOffline", NULL},
    {0x040, "FilterDumpFile", NULL},
    {0x080, "EarlyBootCrash", NULL},
    {0x100, "EncryptedDumpData", NULL},
    {0x200, "DecryptedDump", NULL},
};

static int attributes_known(const nts_dump_info *in)
{
    return in->attributes != 0 && in->attributes != FILL_PAGE32;
}

/* One KEY_VALUES_STRING pair. */
typedef struct kv {
    const char *key;
    char value[64];
} kv;

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const kv *)a)->key, ((const kv *)b)->key);
}

static void print_verbose(nts_session *s, uint32_t code, const uint64_t args[4], const exc_info *ex,
                          const ctx_info *cx, const kv *kvs, size_t nkv)
{
    const nts_dump_info *in = s->info;
    int w = bugcheck_ptr_digits(s);
    out(s, "\nDebugging Details:\n------------------\n\n\n");
    out(s, "KEY_VALUES_STRING: 1\n\n");
    for (size_t i = 0; i < nkv; i++)
        out(s, "    Key  : %s\n    Value: %s\n\n", kvs[i].key, kvs[i].value);
    out(s, "\n");
    out(s, "BUGCHECK_CODE:  %x\n\n", code);
    for (int i = 0; i < 4; i++)
        out(s, "BUGCHECK_P%d: %llx\n\n", i + 1, (unsigned long long)args[i]);
    if (attributes_known(in)) {
        out(s, "DUMP_FILE_ATTRIBUTES: 0x%x\n", in->attributes);
        for (size_t i = 0; i < sizeof attr_bits / sizeof attr_bits[0]; i++)
            if ((in->attributes & attr_bits[i].bit) && attr_bits[i].text)
                out(s, "  %s\n", attr_bits[i].text);
        out(s, "\n");
    }
    if (ex->present) {
        if (ex->from_header)
            out(s, "EXCEPTION_RECORD:  (.exr -1)\n");
        else
            out(s, "EXCEPTION_RECORD:  %0*llx -- (.exr 0x%llx)\n", w, (unsigned long long)ex->address,
                (unsigned long long)ex->address);
        if (ex->readable)
            regs_print_exception(s, &ex->rec);
        out(s, "\n");
    }
    if (cx->present) {
        if (cx->header_only)
            out(s, "CONTEXT:  (.cxr)\n");
        else
            out(s, "CONTEXT:  %0*llx -- (.cxr 0x%llx)\n", w, (unsigned long long)cx->address,
                (unsigned long long)cx->address);
        if (cx->readable)
            regs_print_x64(s, &cx->ctx);
        out(s, "\n");
    }
    /* PROCESS_NAME ... FAILURE_BUCKET_ID from the object model; without a stack, the
       faulting address alone names SYMBOL_NAME, MODULE_NAME, IMAGE_NAME */
    const int ctx_rec = cx->present && cx->readable && !cx->header_only;
    if (!analyze_object_model(s, code, args, ctx_rec ? &cx->ctx : NULL, ctx_rec ? cx->address : 0))
        session_analyze_fault(s, code, args);
    if (in->machine_image_type == NTS_MACHINE_AMD64)
        out(s, "OSPLATFORM_TYPE:  x64\n\n");
    else if (in->machine_image_type == NTS_MACHINE_I386)
        out(s, "OSPLATFORM_TYPE:  x86\n\n");
    analyze_os_name(s);
}

static void json_verbose(nts_session *s, uint32_t code, const exc_info *ex, const ctx_info *cx,
                         const kv *kvs, size_t nkv)
{
    const nts_dump_info *in = s->info;
    session_analyze_fault(s, code, in->bugcheck_parameters); /* "fault": symbol, module, image */
    const int ctx_rec = cx->present && cx->readable && !cx->header_only;
    analyze_object_model(s, code, in->bugcheck_parameters, ctx_rec ? &cx->ctx : NULL, ctx_rec ? cx->address : 0);
    jw_key(s, "key_values");
    jw_begin_obj(s);
    for (size_t i = 0; i < nkv; i++)
        jw_kstr(s, kvs[i].key, kvs[i].value);
    jw_end_obj(s);
    jw_key(s, "dump_file_attributes");
    if (attributes_known(in)) {
        jw_begin_obj(s);
        jw_khex(s, "value", in->attributes);
        jw_key(s, "flags");
        jw_begin_arr(s);
        for (size_t i = 0; i < sizeof attr_bits / sizeof attr_bits[0]; i++)
            if (in->attributes & attr_bits[i].bit)
                jw_str(s, attr_bits[i].name);
        jw_end_arr(s);
        jw_end_obj(s);
    } else {
        jw_null(s);
    }
    jw_key(s, "exception_record");
    if (ex->present) {
        jw_begin_obj(s);
        jw_kstr(s, "source", ex->from_header ? "header" : "memory");
        if (!ex->from_header)
            jw_khex(s, "address", ex->address);
        jw_kbool(s, "readable", ex->readable);
        if (ex->readable) {
            jw_key(s, "record");
            regs_json_exception(s, &ex->rec);
        } else {
            jw_kstr(s, "error", ex->error);
        }
        jw_end_obj(s);
    } else {
        jw_null(s);
    }
    jw_key(s, "context");
    if (cx->present) {
        jw_begin_obj(s);
        jw_kstr(s, "source", cx->from_header ? "header" : "memory");
        if (!cx->header_only)
            jw_khex(s, "address", cx->address);
        jw_kbool(s, "readable", cx->readable);
        if (cx->readable)
            regs_json_x64(s, &cx->ctx);
        else
            jw_kstr(s, "error", cx->error);
        jw_end_obj(s);
    } else {
        jw_null(s);
    }
    jw_kstr(s, "os_platform_type", in->machine_image_type == NTS_MACHINE_AMD64  ? "x64"
                                   : in->machine_image_type == NTS_MACHINE_I386 ? "x86"
                                                                                : NULL);
    (void)code;
}

/* !analyze -show CODE [ARG1 [ARG2 [ARG3 [ARG4]]]] */
static int analyze_show(nts_session *s, const char *p)
{
    uint64_t v[5] = {0};
    int n = 0;
    p = skip_ws(p);
    while (*p && n < 5) {
        const char *end;
        if (cmd_eval(s, p, 0, &v[n], &end) != 0)
            return 1;
        n++;
        p = skip_ws(end);
    }
    if (n == 0)
        return cmd_error(s, "Usage: !analyze -show CODE [ARG1 [ARG2 [ARG3 [ARG4]]]]");
    if (*p)
        return cmd_error(s, "Too many arguments: '%s'", p);
    uint32_t code = (uint32_t)v[0];
    uint64_t args[4] = {v[1], v[2], v[3], v[4]};
    if (s->json)
        bugcheck_json(s, code, args);
    else
        print_bugcheck_block(s, code, args);
    return 0;
}

int cmd_analyze(nts_session *s, const char *name, const char *args)
{
    struct timespec t0, c0, t1, c1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    int verbose = 0;
    const char *p = skip_ws(args);
    while (*p == '-' || *p == '/') {
        const char *opt = p + 1;
        size_t n = 0;
        while (opt[n] && opt[n] != ' ' && opt[n] != '\t')
            n++;
        if (n == 1 && opt[0] == 'v') {
            verbose = 1;
        } else if (n == 1 && opt[0] == 'f') {
            /* analyse even without a bug check: nothing changes here */
        } else if (n == 4 && strncmp(opt, "show", 4) == 0) {
            return analyze_show(s, opt + 4);
        } else {
            return cmd_error(s, "Unknown option '%.*s' (ntscope supports -v, -f and -show)", (int)n + 1, p);
        }
        p = skip_ws(opt + n);
    }
    if (*p)
        return cmd_error(s, "Unexpected argument '%s'", p);
    if (!s->info)
        return cmd_error(s, "No dump is open");
    if (umode_is(s)) /* a process dump: the exception, not a bug check (cmd_umode_analyze.c) */
        return umode_cmd_analyze(s, verbose);

    const nts_dump_info *in = s->info;
    uint32_t code = in->bugcheck_code;
    const uint64_t *bargs = in->bugcheck_parameters;

    exc_info ex;
    ctx_info cx;
    if (verbose)
        gather(s, code, bargs, &ex, &cx);

    kv kvs[8];
    size_t nkv = 0;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    kvs[nkv].key = "Analysis.CPU.mSec";
    snprintf(kvs[nkv++].value, sizeof kvs[0].value, "%.0f", ms_between(&c0, &c1));
    kvs[nkv].key = "Analysis.Elapsed.mSec";
    snprintf(kvs[nkv++].value, sizeof kvs[0].value, "%.0f", ms_between(&t0, &t1));
    kvs[nkv].key = "Bugcheck.Code.LegacyAPI";
    snprintf(kvs[nkv++].value, sizeof kvs[0].value, "0x%x", code);
    if (attributes_known(in)) {
        kvs[nkv].key = "Dump.Attributes.AsUlong";
        snprintf(kvs[nkv++].value, sizeof kvs[0].value, "0x%x", in->attributes);
        if (in->attributes & 0x8) {
            kvs[nkv].key = "Dump.Attributes.KernelGeneratedTriageDump";
            snprintf(kvs[nkv++].value, sizeof kvs[0].value, "1");
        }
    }
    qsort(kvs, nkv, sizeof kvs[0], kv_cmp);

    if (s->json) {
        jw_kbool(s, "verbose", verbose);
        bugcheck_json(s, code, bargs);
        if (verbose)
            json_verbose(s, code, &ex, &cx, kvs, nkv);
        jw_kstr(s, "followup", "MachineOwner");
        return 0;
    }
    print_banner(s);
    if (!verbose) {
        out(s, "Use !analyze -v to get detailed debugging information.\n\n");
        out(s, "BugCheck %X, {%llx, %llx, %llx, %llx}\n\n", code, (unsigned long long)bargs[0],
            (unsigned long long)bargs[1], (unsigned long long)bargs[2], (unsigned long long)bargs[3]);
    } else {
        print_bugcheck_block(s, code, bargs);
        print_verbose(s, code, bargs, &ex, &cx, kvs, nkv);
    }
    out(s, "Followup:     MachineOwner\n---------\n\n");
    return 0;
}

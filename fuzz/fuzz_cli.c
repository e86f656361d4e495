/*
 * fuzz/fuzz_cli.c - libFuzzer target for the command line: the dispatcher,
 * every command's argument parser and what the command then does (layer:
 * CLI, commands, through the whole library).
 *
 * One session is opened once on a small dump: $NTS_FUZZ_DUMP when set
 * (fuzz/run.sh makes an ntscope-mkdump dump: kernel, processes, PEBs,
 * modules), else a synthetic 64-page machine written to a temporary file
 * (kernel page tables with a self-map, a few mapped kernel pages, a context
 * inside them). Each input is one line of commands (';'-separated) run
 * through dispatch_line, text or JSON by the first byte, with output to a
 * sink that discards it. Symbols are offline with an empty symbol path.
 *
 * Bounded by request, not by a bug: a command asked to print 2^64 bytes
 * (db 0 L?ffffffffffffffff) would print forever, so the sink stops a
 * command with longjmp once it has printed 256 KB (such inputs leak what the
 * command held, so this target runs with -detect_leaks=0; the hostile-dump
 * suite runs every command under LeakSanitizer and valgrind). Anything else
 * that takes long is a finding: run.sh gives each input -timeout=10 and
 * tests/test_hostile_dumps.sh holds commands to 1 s on a realistic dump.
 *
 * Commands that write files, reach the network or change the symbol setup
 * (.logopen, .logappend, .writemem, .dump, .shell, .symfix, .sympath,
 * .reload, .srcpath) are left out: the input is skipped when it names one.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "commands.h"
#include "fuzz_image.h"
#include "session.h"
#include "symsession.h"

#define OUT_CAP (256u << 10)

static nts_session sess;
static int ready;
static nts_context_x64 regs0;
static size_t written;
static jmp_buf stop_cmd;
static int in_cmd;

static ssize_t sink_write(void *c, const char *buf, size_t n)
{
    (void)c, (void)buf;
    written += n;
    if (written > OUT_CAP && in_cmd) {
        in_cmd = 0;
        longjmp(stop_cmd, 1);
    }
    return (ssize_t)n;
}

/* A 64-page machine: PML4 at page 1 with a self-map at 0x1ed, the kernel
 * at fffff800'00000000 (pages 8..23 mapped, 2 MB region), a user page. */
static int synth_dump(char *path, size_t pathlen)
{
    enum { NP = 64 };
    static uint8_t phys[NP * FZ_PAGE];
    const uint64_t P = 0x63; /* present, rw, accessed, dirty */
    memset(phys, 0, sizeof phys);
    uint8_t *pml4 = phys + 1 * FZ_PAGE;
    fz_put64(pml4 + 8 * 0x1ed, 1 * FZ_PAGE | P);
    fz_put64(pml4 + 8 * 0x1f0, 2 * FZ_PAGE | P);  /* fffff800'00000000 */
    fz_put64(phys + 2 * FZ_PAGE, 3 * FZ_PAGE | P); /* PDPT[0] */
    fz_put64(phys + 3 * FZ_PAGE, 4 * FZ_PAGE | P); /* PD[0] */
    fz_put64(phys + 3 * FZ_PAGE + 8, (uint64_t)0x200000 | 0xe3); /* PD[1]: a 2 MB page past memory */
    for (unsigned i = 0; i < 16; i++)
        fz_put64(phys + 4 * FZ_PAGE + 8 * i, (uint64_t)(8 + i) * FZ_PAGE | P);
    fz_put64(phys + 4 * FZ_PAGE + 8 * 16, (uint64_t)0x123 << 12 | 0x800); /* transition */
    fz_put64(pml4 + 0, 5 * FZ_PAGE | P | 4);      /* user half */
    fz_put64(phys + 5 * FZ_PAGE, 6 * FZ_PAGE | P | 4);
    fz_put64(phys + 6 * FZ_PAGE, 7 * FZ_PAGE | P | 4);
    fz_put64(phys + 7 * FZ_PAGE + 8 * 0x10, 30 * FZ_PAGE | P | 4);
    for (unsigned i = 8 * FZ_PAGE; i < 24 * FZ_PAGE; i++)
        phys[i] = (uint8_t)(i * 2654435761u >> 13);
    memcpy(phys + 8 * FZ_PAGE, "MZ", 2);
    memcpy(phys + 30 * FZ_PAGE, "H\0e\0l\0l\0o\0\0\0", 12);
    size_t len;
    uint8_t *img = fz_image(phys, sizeof phys, NP, 1 * FZ_PAGE, 0xfffff80000001000ull,
                            0xfffff80000008000ull, &len);
    if (!img)
        return -1;
    snprintf(path, pathlen, "%s/nts-fuzz-cli-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        free(img);
        return -1;
    }
    int ok = write(fd, img, len) == (ssize_t)len;
    close(fd);
    free(img);
    return ok ? 0 : -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char tmp[512] = "";
    const char *path = getenv("NTS_FUZZ_DUMP");
    if (!path || !*path) {
        if (synth_dump(tmp, sizeof tmp) != 0)
            abort();
        path = tmp;
    }
    memset(&sess, 0, sizeof sess);
    cookie_io_functions_t io = {NULL, sink_write, NULL, NULL};
    sess.out = fopencookie(NULL, "w", io);
    if (!sess.out)
        abort();
    setvbuf(sess.out, NULL, _IONBF, 0);
    if (symsession_configure(&sess, "", NULL, 1) != 0 || session_open(&sess, path) != NTS_OK) {
        fprintf(stderr, "fuzz_cli: cannot open %s: %s\n", path, nts_last_error());
        abort();
    }
    if (tmp[0])
        unlink(tmp); /* the mapping stays valid */
    regs0 = sess.regs;
    ready = 1;
    return 0;
}

/* Inputs stopped by the output cap leak what the command held (see above). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}

static const char *const refused[] = {".log", ".write", ".dump", ".shell", ".sym", ".reload",
                                      ".srcpath", ".open", ".create", "!sym", ".kill", ".restart"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready || size < 1 || size > 4096)
        return 0;
    char *line = malloc(size);
    if (!line)
        return 0;
    memcpy(line, data + 1, size - 1);
    line[size - 1] = 0;
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (strcasestr(line, refused[i])) {
            free(line);
            return 0;
        }
    sess.json = data[0] & 1;
    sess.quit = 0;
    sess.jdepth = 0;
    sess.jafter_key = 0;
    sess.regs = regs0;
    written = 0;
    if (setjmp(stop_cmd) == 0) {
        in_cmd = 1;
        dispatch_line(&sess, line);
    }
    in_cmd = 0;
    sess.quit = 0;
    free(line);
    return 0;
}

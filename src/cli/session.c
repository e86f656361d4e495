/*
 * cli/session.c - opening a dump into a session.
 *
 * Layer: front end. Opens the dump through the public API, makes the kernel
 * address space the current one and the crash context the current register
 * context. An address space that cannot be built (triage without blocks,
 * ARM64) is not fatal: commands that need memory say why.
 */
#include <string.h>

#include "cmd_umode.h"
#include "ntctx.h"
#include "session.h"
#include "symsession.h"

nts_status session_open(nts_session *s, const char *path)
{
    if (!s->sym && symsession_configure(s, NULL, NULL, 0) != 0)
        return NTS_E_NOMEM;
    if (symsession_is_image_file(path)) /* an .exe or .dll as the target, as WinDbg -z does */
        return symsession_open_image(s, path);
    nts_status st = nts_dump_open(&s->dump, path, NULL);
    if (st != NTS_OK)
        return st;
    s->info = nts_dump_get_info(s->dump);
    if (nts_vas_open_kernel(&s->kvas, s->dump) != NTS_OK) {
        static char why[512];
        snprintf(why, sizeof why, "%s", nts_last_error());
        s->vas_error = why;
        s->kvas = NULL;
    }
    s->vas = s->kvas;
    if (s->info->format == NTS_FORMAT_MINIDUMP) { /* a process dump: its threads, no kernel */
        umode_open(s);
        symsession_attach_dump(s); /* the ModuleList (umode_add_modules) */
        return NTS_OK;
    }
    if (s->info->machine_image_type == NTS_MACHINE_AMD64) {
        s->regs = s->info->context;
        s->have_regs = 1;
    }
    s->prompt = "0: kd> ";
    symsession_attach_dump(s);
    /* The kernel object model (processes, threads, stacks): the symbol session opened it. */
    s->kernel = symsession_kernel(s);
    if (!s->kernel)
        snprintf(s->kernel_error, sizeof s->kernel_error, "%s",
                 *symsession_kernel_types(s) ? symsession_kernel_types(s) : "the kernel could not be opened");
    return NTS_OK;
}

void session_close(nts_session *s)
{
    ntctx_free(s); /* process spaces (s->vas among them) and user modules */
    if (s->vas && s->vas != s->kvas)
        nts_vas_close(s->vas);
    nts_vas_close(s->kvas);
    symsession_free(s);
    umode_close(s); /* after the symbol set: ntdll's fallback layouts are its */
    nts_dump_close(s->dump);
    if (s->log)
        fclose(s->log);
    s->log = NULL;
    s->dump = NULL;
    s->kvas = s->vas = NULL;
}

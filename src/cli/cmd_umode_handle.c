/*
 * cli/cmd_umode_handle.c - `!handle [HANDLE [FLAGS [TYPE]]]` on a process
 * dump: the HandleData stream.
 *
 * Layer: commands. WinDbg's layout: without flags each handle's value and
 * type; flag bits 1 (type), 2 (basic: attributes, access, counts), 4
 * (name), so `!handle 0 f` shows everything; HANDLE 0 means every handle.
 * The list ends with the count and a table of handles per type:
 *
 *   Handle 0000000000000004
 *     Type         	Directory
 *   ...
 *   6 Handles
 *   Type           	Count
 *   Directory      	1
 *
 * The object-specific part WinDbg shows with bit 8 needs the
 * MINIDUMP_HANDLE_OBJECT_INFORMATION lists; ntscope says "No object specific
 * information available" there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd_umode.h"
#include "commands.h"

#define TYPES_MAX 64

typedef struct type_count {
    char name[128];
    size_t count;
} type_count;

static void count_type(type_count *t, size_t *nt, const char *name)
{
    const char *n = name[0] ? name : "None";
    for (size_t i = 0; i < *nt; i++)
        if (!strcmp(t[i].name, n)) {
            t[i].count++;
            return;
        }
    if (*nt < TYPES_MAX) {
        snprintf(t[*nt].name, sizeof t[*nt].name, "%s", n);
        t[(*nt)++].count = 1;
    }
}

static void show(nts_session *s, const nts_mdmp_handle *h, unsigned flags)
{
    char hv[20];
    if (s->json) {
        jw_begin_obj(s);
        jw_khex(s, "handle", h->handle);
        jw_kstr(s, "type", h->type_name[0] ? h->type_name : NULL);
        jw_kstr(s, "name", h->object_name[0] ? h->object_name : NULL);
        jw_khex(s, "attributes", h->attributes);
        jw_khex(s, "granted_access", h->granted_access);
        jw_ku64(s, "handle_count", h->handle_count);
        jw_ku64(s, "pointer_count", h->pointer_count);
        jw_end_obj(s);
        return;
    }
    snprintf(hv, sizeof hv, "%0*llx", s->umode->is_x86 ? 8 : 16, (unsigned long long)h->handle);
    out(s, "Handle %s\n", hv);
    if (!flags || (flags & 1))
        out(s, "  Type         \t%s\n", h->type_name);
    if (flags & 2) {
        out(s, "  Attributes   \t%x\n", h->attributes);
        out(s, "  GrantedAccess\t0x%x\n", h->granted_access);
        out(s, "  HandleCount  \t%u\n", h->handle_count);
        out(s, "  PointerCount \t%u\n", h->pointer_count);
    }
    if (flags & 4)
        out(s, "  Name         \t%s\n", h->object_name[0] ? h->object_name : "<none>");
    if (flags & 8)
        out(s, "  No object specific information available\n");
}

int umode_cmd_handle(nts_session *s, const char *name, const char *args)
{
    (void)name;
    nts_umode *u = umode_of(s);
    if (!u)
        return cmd_error(s, "!handle works on user-mode (process) dumps; in a kernel dump the handle tables "
                            "are not walked yet");
    uint64_t which = 0, flags = 0;
    char type[128] = "";
    const char *p = skip_ws(args), *end;
    if (*p) {
        if (cmd_eval(s, p, 0, &which, &end) != 0)
            return 1;
        p = skip_ws(end);
    }
    if (*p) {
        if (cmd_eval(s, p, 0, &flags, &end) != 0)
            return 1;
        p = skip_ws(end);
    }
    if (*p)
        snprintf(type, sizeof type, "%s", p);
    if (!u->mi->handle_count)
        return cmd_error(s, "The dump holds no handle information (no HandleDataStream: written without "
                            "MiniDumpWithHandleData)");
    type_count *types = calloc(TYPES_MAX, sizeof *types);
    size_t nt = 0, shown = 0;
    if (!types)
        return cmd_error(s, "out of memory");
    if (s->json)
        jw_key(s, "handles"), jw_begin_arr(s);
    for (size_t i = 0; i < u->mi->handle_count; i++) {
        nts_mdmp_handle h;
        if (nts_mdmp_handle_get(s->dump, i, &h) != NTS_OK)
            continue;
        if (which && which != ~0ull && h.handle != which)
            continue;
        if (type[0] && strcasecmp(type, h.type_name) != 0)
            continue;
        show(s, &h, (unsigned)flags);
        count_type(types, &nt, h.type_name);
        shown++;
    }
    if (s->json) {
        jw_end_arr(s);
        jw_key(s, "types"), jw_begin_obj(s);
        for (size_t i = 0; i < nt; i++)
            jw_ku64(s, types[i].name, types[i].count);
        jw_end_obj(s);
        jw_ku64(s, "count", shown);
        free(types);
        return 0;
    }
    if (which && !shown)
        out(s, "Handle %llx not found\n", (unsigned long long)which);
    if (!which || which == ~0ull) {
        out(s, "%zu Handles\n", shown);
        out(s, "Type           \tCount\n");
        for (size_t i = 0; i < nt; i++)
            out(s, "%-15s\t%zu\n", types[i].name, types[i].count);
    }
    free(types);
    return 0;
}

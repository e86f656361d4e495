/*
 * sym/pdb/pdb.c - the PDB type source: nts_typedb_open_pdb and the ops
 * table the type database calls.
 *
 * Layer: symbols/types, PDB source. The file is mapped read-only (a
 * caller's buffer is copied, for nts__pdb_open_mem). Opening decodes the
 * MSF superblock and stream directory, the info stream, and the TPI, IPI
 * and DBI headers, nothing more: type records, the name index, field lists,
 * modules, sections and symbols are built on first use (tpi.c, types.c,
 * dbi.c, symbols.c). Type ids are TPI indices.
 *
 * nts_type_find answers, in order: a simple type's C name ("unsigned long",
 * "wchar_t"), a struct/union/enum definition by name or unique name, then a
 * typedef name from the globals' S_UDT records ("ULONG" -> its type).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/budget.h"
#include "sym/pdb/pdb_internal.h"
#include "util/error.h"

static nts_status open_parts(nts__pdb *p, const uint8_t *buf, size_t len)
{
    nts_status st = nts__pdb_msf_open(&p->msf, buf, len);
    if (!st)
        st = nts__pdb_info_open(&p->info, &p->msf);
    if (!st)
        st = nts__pdb_dbi_open(&p->dbi, &p->msf);
    if (!st)
        st = nts__pdb_tpi_open(&p->tpi, &p->msf, 2, "TPI");
    if (!st && nts__pdb_tpi_open(&p->ipi, &p->msf, 4, "IPI") != NTS_OK)
        memset(&p->ipi, 0, sizeof p->ipi); /* the IPI is not used for types: ignore a bad one */
    if (!st)
        nts__clear_error();
    return st;
}

void nts__pdb_impl_close(nts__pdb *p)
{
    if (!p)
        return;
    nts__pdb_syms_close(&p->syms);
    nts__pdb_types_close(&p->tpi);
    nts__pdb_tpi_close(&p->tpi);
    nts__pdb_tpi_close(&p->ipi);
    nts__pdb_dbi_close(&p->dbi);
    nts__pdb_info_close(&p->info);
    nts__pdb_msf_close(&p->msf);
    if (p->map)
        munmap(p->map, p->map_len);
    free(p->owned);
    free(p);
}

nts_status nts__pdb_impl_open_mem(nts__pdb **out, const void *buf, size_t len)
{
    *out = NULL;
    if (!buf && len)
        return nts__fail(NTS_E_INVALID_ARG, "PDB: NULL buffer");
    nts__pdb *p = calloc(1, sizeof *p);
    if (!p)
        return nts__fail(NTS_E_NOMEM, "PDB: no memory");
    if (nts__budget_check(len, "PDB: copy of the file") != NTS_OK) {
        free(p);
        return NTS_E_NOMEM;
    }
    p->owned = malloc(len ? len : 1);
    if (!p->owned) {
        free(p);
        return nts__fail(NTS_E_NOMEM, "PDB: no memory for a %zu-byte copy", len);
    }
    if (len)
        memcpy(p->owned, buf, len);
    nts_status st = open_parts(p, p->owned, len);
    if (st) {
        nts__pdb_impl_close(p);
        return st;
    }
    *out = p;
    return NTS_OK;
}

/* --- ops --- */

static void op_close(void *impl)
{
    nts__pdb_impl_close(impl);
}

static nts_status op_identity(void *impl, uint8_t guid[16], uint32_t *age)
{
    nts__pdb *p = impl;
    if (!p->info.has_guid)
        return nts__fail(NTS_E_NOT_FOUND, "PDB: info stream version %u has no GUID", p->info.version);
    memcpy(guid, p->info.guid, 16);
    /* The age the image's RSDS record carries is the DBI's (the info stream's counts every write). */
    *age = p->dbi.present ? p->dbi.age : p->info.age;
    return NTS_OK;
}

static nts_status op_find(void *impl, const char *name, nts_type_id *out)
{
    nts__pdb *p = impl;
    uint32_t ti;
    if (nts__pdb_prim_find(name, &ti)) {
        *out = ti;
        return NTS_OK;
    }
    nts_status st = nts__pdb_tpi_find(p, name, &ti);
    if (st == NTS_E_NOT_FOUND && nts__pdb_udt_find(p, name, &ti) == NTS_OK && ti != 0) {
        nts__clear_error();
        st = NTS_OK;
    } else if (st == NTS_E_NOT_FOUND) {
        st = nts__fail(NTS_E_NOT_FOUND, "PDB: no type named \"%s\"", name);
    }
    if (!st)
        *out = ti;
    return st;
}

static nts_status op_get(void *impl, nts_type_id id, nts_type_info *out)
{
    return nts__pdb_type_get(impl, id, out);
}

static nts_status op_member(void *impl, nts_type_id id, size_t index, nts_member_info *out)
{
    return nts__pdb_type_member(impl, id, index, out);
}

static nts_status op_enumerator(void *impl, nts_type_id id, size_t index, nts_enum_value *out)
{
    return nts__pdb_type_enumerator(impl, id, index, out);
}

static nts_status op_type_at(void *impl, size_t index, nts_type_id *out)
{
    uint32_t ti;
    nts_status st = nts__pdb_tpi_def_at(impl, index, &ti);
    if (!st)
        *out = ti;
    return st;
}

static nts_status op_sym_find(void *impl, const char *name, nts_symbol *out)
{
    return nts__pdb_sym_find(impl, name, out);
}

static nts_status op_sym_by_rva(void *impl, uint64_t rva, nts_symbol *out)
{
    return nts__pdb_sym_by_rva(impl, rva, out);
}

static nts_status op_sym_at(void *impl, size_t index, nts_symbol *out)
{
    return nts__pdb_sym_at(impl, index, out);
}

static const char *op_base_dt_name(void *impl, nts_type_id id)
{
    uint32_t kind;
    if (nts__pdb_type_cv_kind(impl, id, &kind) != NTS_OK)
        return NULL;
    return nts__cv_base_dt_name(kind);
}

const nts__typedb_ops nts__pdb_ops = {
    .source = "pdb",
    .close = op_close,
    .identity = op_identity,
    .find = op_find,
    .get = op_get,
    .member = op_member,
    .enumerator = op_enumerator,
    .type_at = op_type_at,
    .sym_find = op_sym_find,
    .sym_by_rva = op_sym_by_rva,
    .sym_at = op_sym_at,
    .base_dt_name = op_base_dt_name,
};

nts_status nts__pdb_open_mem(nts_typedb **out, const void *buf, size_t len)
{
    nts__pdb *p;
    if (!out)
        return nts__fail(NTS_E_INVALID_ARG, "nts__pdb_open_mem: NULL argument");
    *out = NULL;
    nts_status st = nts__pdb_impl_open_mem(&p, buf, len);
    if (st)
        return st;
    return nts__typedb_new(out, &nts__pdb_ops, p);
}

nts_status nts_typedb_open_pdb(nts_typedb **out, const char *path)
{
    if (!out || !path)
        return nts__fail(NTS_E_INVALID_ARG, "nts_typedb_open_pdb: NULL argument");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return nts__fail(NTS_E_IO, "PDB: cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    errno = 0;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        int e = errno;
        close(fd);
        return nts__fail(NTS_E_IO, "PDB: %s is not a regular file%s%s", path, e ? ": " : "", e ? strerror(e) : "");
    }
    if (sb.st_size == 0) {
        close(fd);
        return nts__fail(NTS_E_FORMAT, "PDB: %s is empty", path);
    }
    size_t len = (size_t)sb.st_size;
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED)
        return nts__fail(NTS_E_IO, "PDB: cannot map %s (%zu bytes): %s", path, len, strerror(e));
    nts__pdb *p = calloc(1, sizeof *p);
    if (!p) {
        munmap(map, len);
        return nts__fail(NTS_E_NOMEM, "PDB: no memory");
    }
    p->map = map;
    p->map_len = len;
    nts_status st = open_parts(p, map, len);
    if (st) {
        nts__pdb_impl_close(p);
        return st;
    }
    return nts__typedb_new(out, &nts__pdb_ops, p);
}

/*
 * sym/pdb/dbi.c - the DBI stream (stream 3): header, module list, and the
 * section table that turns a symbol's segment:offset into an RVA.
 *
 * Layer: symbols/types, PDB source. Opening reads the 64-byte header and
 * the optional debug header (an array of u16 stream indices after the
 * module info, section contribution, section map, file info, type server
 * map and EC substreams). The module list (names, symbol stream, symbol
 * bytes) and the sections are decoded on first use. Section RVAs come from
 * the section header stream (optional debug header slot 5); when the PDB
 * carries OMAP (slot 4) and the original section headers (slot 10), a
 * symbol's address is taken against the original sections and mapped
 * through OMAP-from-source; lld-link writes no section header stream, so
 * without one the S_SECTION records of the "* Linker *" module are used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym/pdb/pdb_internal.h"
#include "sym/pdb/pdb_layout.h"
#include "util/error.h"
#include "util/rd.h"

#define D(field) offsetof(dbi_header, field)
#define MI(field) offsetof(dbi_modinfo, field)

static uint32_t stream16(uint16_t v)
{
    return v == 0xFFFF ? PDB_NIL_STREAM : v;
}

nts_status nts__pdb_dbi_open(pdb_dbi *d, pdb_msf *m)
{
    memset(d, 0, sizeof *d);
    d->gsi_stream = d->psi_stream = d->symrec_stream = PDB_NIL_STREAM;
    for (int i = 0; i < DBG_COUNT; i++)
        d->dbg[i] = PDB_NIL_STREAM;
    if (!nts__pdb_msf_exists(m, 3) || nts__pdb_msf_size(m, 3) == 0)
        return NTS_OK; /* a types-only PDB */
    uint32_t size = nts__pdb_msf_size(m, 3);
    uint8_t h[sizeof(dbi_header)];
    if (size < sizeof h)
        return nts__fail(NTS_E_FORMAT, "PDB: the DBI stream is %u bytes, too short for its 64-byte header", size);
    nts_status st = nts__pdb_msf_read(m, 3, 0, h, sizeof h);
    if (st)
        return st;
    if ((int32_t)rd_u32(h + D(VersionSignature)) != -1)
        return nts__fail(NTS_E_UNSUPPORTED, "PDB: DBI VersionSignature 0x%x is not -1 (an old DBI format)",
                         rd_u32(h + D(VersionSignature)));
    d->age = rd_u32(h + D(Age));
    d->gsi_stream = stream16(rd_u16(h + D(GlobalStreamIndex)));
    d->psi_stream = stream16(rd_u16(h + D(PublicStreamIndex)));
    d->symrec_stream = stream16(rd_u16(h + D(SymRecordStream)));
    d->machine = rd_u16(h + D(Machine));
    static const struct {
        size_t off;
        const char *name;
    } subs[] = {
        {D(ModInfoSize), "ModInfoSize"},         {D(SectionContributionSize), "SectionContributionSize"},
        {D(SectionMapSize), "SectionMapSize"},   {D(SourceInfoSize), "SourceInfoSize"},
        {D(TypeServerMapSize), "TypeServerMapSize"}, {D(ECSubstreamSize), "ECSubstreamSize"},
        {D(OptionalDbgHeaderSize), "OptionalDbgHeaderSize"},
    };
    uint64_t pos = sizeof h;
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        int32_t n = (int32_t)rd_u32(h + subs[i].off);
        if (n < 0 || pos + (uint64_t)n > size)
            return nts__fail(NTS_E_FORMAT, "PDB: DBI %s %d at offset %llu is past the stream (%u bytes)",
                             subs[i].name, n, (unsigned long long)pos, size);
        if (i == 0) {
            d->mod_off = (uint32_t)pos;
            d->mod_size = (uint32_t)n;
        } else if (i == 6) {
            d->dbg_off = (uint32_t)pos;
            d->dbg_size = (uint32_t)n;
        }
        pos += (uint64_t)n;
    }
    uint8_t dbg[2 * DBG_COUNT];
    uint32_t ndbg = d->dbg_size / 2 < DBG_COUNT ? d->dbg_size / 2 : DBG_COUNT;
    st = nts__pdb_msf_read(m, 3, d->dbg_off, dbg, 2 * ndbg);
    if (st)
        return st;
    for (uint32_t i = 0; i < ndbg; i++)
        d->dbg[i] = stream16(rd_u16(dbg + 2 * i));
    d->present = 1;
    return NTS_OK;
}

void nts__pdb_dbi_close(pdb_dbi *d)
{
    free(d->mods);
    free(d->sec_va);
    d->mods = NULL;
    d->sec_va = NULL;
}

nts_status nts__pdb_dbi_modules(nts__pdb *p)
{
    pdb_dbi *d = &p->dbi;
    if (d->mods_loaded)
        return d->mods_st ? nts__fail(d->mods_st, "PDB: the DBI module list could not be read") : NTS_OK;
    d->mods_loaded = 1;
    if (!d->present)
        return NTS_OK;
    const uint8_t *data;
    uint32_t size;
    nts_status st = nts__pdb_msf_view(&p->msf, 3, &data, &size);
    if (st)
        return d->mods_st = st;
    const uint8_t *s = data + d->mod_off;
    uint32_t len = d->mod_size, cap = 0;
    for (uint32_t pos = 0; pos < len;) {
        if (len - pos < sizeof(dbi_modinfo)) {
            d->mods_st = NTS_E_FORMAT;
            return nts__fail(NTS_E_FORMAT, "PDB: DBI module %u at offset %u is truncated (%u bytes of module info)",
                             d->nmods, pos, len);
        }
        uint32_t q = pos + (uint32_t)sizeof(dbi_modinfo), used;
        const char *name, *obj;
        if (nts__pdb_name(s + q, len - q, &name, &used) != 0 ||
            nts__pdb_name(s + q + used, len - q - used, &obj, &used) != 0) {
            d->mods_st = NTS_E_FORMAT;
            return nts__fail(NTS_E_FORMAT, "PDB: DBI module %u at offset %u: its names run past the substream",
                             d->nmods, pos);
        }
        if (d->nmods == PDB_MAX_MODULES) {
            d->mods_st = NTS_E_LIMIT;
            return nts__fail(NTS_E_LIMIT, "PDB: more than %u modules", PDB_MAX_MODULES);
        }
        if (d->nmods == cap) {
            cap = cap ? 2 * cap : 16;
            pdb_module *nm = realloc(d->mods, (size_t)cap * sizeof *nm);
            if (!nm) {
                d->mods_st = NTS_E_NOMEM;
                return nts__fail(NTS_E_NOMEM, "PDB: no memory for %u modules", cap);
            }
            d->mods = nm;
        }
        pdb_module *mod = &d->mods[d->nmods++];
        mod->name = name;
        mod->obj = obj;
        mod->stream = stream16(rd_u16(s + pos + MI(ModuleSymStream)));
        mod->sym_bytes = rd_u32(s + pos + MI(SymByteSize));
        pos = (uint32_t)(((uint64_t)(obj - (const char *)s) + used + 3) & ~3ull);
    }
    return NTS_OK;
}

/* Section VAs from a stream of IMAGE_SECTION_HEADERs. */
static nts_status sections_from_headers(nts__pdb *p, uint32_t stream)
{
    pdb_dbi *d = &p->dbi;
    const uint8_t *data;
    uint32_t size;
    nts_status st = nts__pdb_msf_view(&p->msf, stream, &data, &size);
    if (st)
        return st;
    uint32_t n = size / sizeof(pdb_section_header);
    if (n > PDB_MAX_SECTIONS)
        return nts__fail(NTS_E_LIMIT, "PDB: section header stream %u holds %u sections", stream, n);
    d->sec_va = malloc(((size_t)n + 1) * sizeof *d->sec_va);
    if (!d->sec_va)
        return nts__fail(NTS_E_NOMEM, "PDB: no memory for %u sections", n);
    for (uint32_t i = 0; i < n; i++)
        d->sec_va[i] = rd_u32(data + (size_t)i * sizeof(pdb_section_header) +
                              offsetof(pdb_section_header, VirtualAddress));
    d->nsecs = n;
    return NTS_OK;
}

/* Section VAs from the S_SECTION records of the "* Linker *" module (lld-link). */
static nts_status sections_from_linker(nts__pdb *p)
{
    pdb_dbi *d = &p->dbi;
    nts_status st = nts__pdb_dbi_modules(p);
    if (st)
        return st;
    for (uint32_t i = 0; i < d->nmods; i++) {
        if (strcmp(d->mods[i].name, "* Linker *") != 0 || !nts__pdb_msf_exists(&p->msf, d->mods[i].stream))
            continue;
        const uint8_t *data;
        uint32_t size;
        st = nts__pdb_msf_view(&p->msf, d->mods[i].stream, &data, &size);
        if (st)
            return st;
        uint32_t end = d->mods[i].sym_bytes < size ? d->mods[i].sym_bytes : size, cap = 0;
        for (uint32_t pos = 4; pos < end && end - pos >= 4;) {
            uint32_t len = rd_u16(data + pos), kind = rd_u16(data + pos + 2);
            if (len < 2 || len > end - pos - 2)
                break;
            if (kind == S_SECTION && len - 2 >= sizeof(cv_sectionsym)) {
                const uint8_t *r = data + pos + 4;
                uint32_t num = rd_u16(r), rva = rd_u32(r + offsetof(cv_sectionsym, Rva));
                if (num >= 1 && num <= PDB_MAX_SECTIONS) {
                    if (num > cap) {
                        uint32_t ncap = num + 16;
                        uint32_t *nv = realloc(d->sec_va, (size_t)ncap * sizeof *nv);
                        if (!nv)
                            return nts__fail(NTS_E_NOMEM, "PDB: no memory for %u sections", ncap);
                        memset(nv + cap, 0, (size_t)(ncap - cap) * sizeof *nv);
                        d->sec_va = nv;
                        cap = ncap;
                    }
                    d->sec_va[num - 1] = rva;
                    if (num > d->nsecs)
                        d->nsecs = num;
                }
            }
            pos += 2 + len;
        }
        break;
    }
    return NTS_OK;
}

static nts_status load_sections(nts__pdb *p)
{
    pdb_dbi *d = &p->dbi;
    if (d->secs_loaded)
        return d->secs_st ? nts__fail(d->secs_st, "PDB: the section table could not be read") : NTS_OK;
    d->secs_loaded = 1;
    nts_status st;
    uint32_t omap = d->dbg[DBG_OMAP_FROM_SRC], orig = d->dbg[DBG_SECTION_HDR_ORIG];
    if (nts__pdb_msf_exists(&p->msf, omap) && nts__pdb_msf_exists(&p->msf, orig)) {
        uint32_t size = 0;
        st = sections_from_headers(p, orig);
        if (!st)
            st = nts__pdb_msf_view(&p->msf, omap, &d->omap, &size);
        if (!st) {
            d->nomap = size / 8;
            for (uint32_t i = 1; i < d->nomap; i++)
                if (rd_u32(d->omap + 8 * i) < rd_u32(d->omap + 8 * (i - 1))) {
                    st = nts__fail(NTS_E_FORMAT, "PDB: OMAP entry %u (rva 0x%x) is out of order", i,
                                   rd_u32(d->omap + 8 * i));
                    break;
                }
        }
    } else if (nts__pdb_msf_exists(&p->msf, d->dbg[DBG_SECTION_HDR])) {
        st = sections_from_headers(p, d->dbg[DBG_SECTION_HDR]);
    } else {
        st = sections_from_linker(p);
    }
    d->secs_st = st;
    return st;
}

nts_status nts__pdb_dbi_rva(nts__pdb *p, uint16_t seg, uint32_t off, uint64_t *rva)
{
    nts_status st = load_sections(p);
    if (st)
        return st;
    pdb_dbi *d = &p->dbi;
    if (seg == 0 || seg > d->nsecs)
        return nts__fail(NTS_E_NOT_FOUND, "PDB: segment %u has no section (the PDB has %u)", seg, d->nsecs);
    uint64_t r = (uint64_t)d->sec_va[seg - 1] + off;
    if (d->omap && d->nomap) {
        uint32_t lo = 0, hi = d->nomap; /* last entry with source rva <= r */
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (rd_u32(d->omap + 8 * mid) <= r)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == 0 || rd_u32(d->omap + 8 * (lo - 1) + 4) == 0)
            return nts__fail(NTS_E_NOT_FOUND, "PDB: %u:0x%x (rva 0x%llx) is not mapped by OMAP", seg, off,
                             (unsigned long long)r);
        r = rd_u32(d->omap + 8 * (lo - 1) + 4) + (r - rd_u32(d->omap + 8 * (lo - 1)));
    }
    *rva = r;
    return NTS_OK;
}

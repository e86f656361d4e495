/*
 * tools/mkdump/win10/object.c - executive objects as Windows 10 lays them
 * out: _OBJECT_TYPE objects listed in ObTypeIndexTable (with the per-type
 * globals PsProcessType, PsThreadType ...), the header cookie that encodes
 * _OBJECT_HEADER.TypeIndex, ObpInfoMaskToOffset, and object creation: pool
 * block, optional headers, _OBJECT_HEADER, body.
 */
#include "mk.h"

#include <stdio.h>
#include <string.h>

/* Type indices of Windows 10 (stable from 1607 to 11 for these). */
static const struct {
    const char *name;
    uint8_t index;
    const char *key;
    const char *global; /* the kernel variable that points to the type, or NULL */
} type_table[] = {
    {"Type", 2, "ObjT", "ObpTypeObjectType"},
    {"Directory", 3, "Dire", "ObpDirectoryObjectType"},
    {"SymbolicLink", 4, "Symb", NULL},
    {"Token", 5, "Toke", "SeTokenObjectType"},
    {"Job", 6, "Job ", "PsJobType"},
    {"Process", 7, "Proc", "PsProcessType"},
    {"Thread", 8, "Thre", "PsThreadType"},
    {"Event", 0x10, "Even", "ExEventObjectType"},
    {"Semaphore", 0x12, "Sema", "ExSemaphoreObjectType"},
    {"Device", 0x21, "Devi", "IoDeviceObjectType"},
    {"Driver", 0x22, "Driv", "IoDriverObjectType"},
    {"File", 0x25, "File", "IoFileObjectType"},
    {"Key", 0x2c, "Key ", NULL},
};

/* The optional headers by InfoMask bit (public bit values). */
static const char *const info_types[8] = {
    "_OBJECT_HEADER_CREATOR_INFO", "_OBJECT_HEADER_NAME_INFO",  "_OBJECT_HEADER_HANDLE_INFO",
    "_OBJECT_HEADER_QUOTA_INFO",   "_OBJECT_HEADER_PROCESS_INFO", "_OBJECT_HEADER_AUDIT_INFO",
    "_OBJECT_HEADER_EXTENDED_INFO", "_OBJECT_HEADER_PADDING_INFO",
};

static uint64_t info_size(mk_machine *m, int bit)
{
    nts_field f;
    return mk_field_opt(m, info_types[bit], &f) == 0 ? f.size : 0;
}

static uint64_t infos_size(mk_machine *m, unsigned mask)
{
    uint64_t s = 0;
    for (int b = 0; b < 8; b++)
        if (mask & (1u << b))
            s += info_size(m, b);
    return s;
}

const mk_objtype *mk_objtype_find(mk_machine *m, const char *name)
{
    for (int i = 0; i < m->ntypes; i++)
        if (strcmp(m->types[i].name, name) == 0)
            return &m->types[i];
    return NULL;
}

uint64_t mk_object_create(mk_machine *m, const char *type, mk_pool_type pt, uint64_t body_size,
                          unsigned info_mask, uint64_t body_va)
{
    const mk_objtype *t = mk_objtype_find(m, type);
    if (!t) {
        mk_fail(m, "no object type %s", type);
        return 0;
    }
    for (int b = 0; b < 8; b++)
        if ((info_mask & (1u << b)) && !info_size(m, b)) {
            mk_fail(m, "the layout has no %s", info_types[b]);
            return 0;
        }
    uint64_t opt = infos_size(m, info_mask), hsize = m->L.oh_body;
    uint64_t total = opt + hsize + body_size, block;
    if (body_va)
        block = mk_pool_alloc_at(m, pt, t->key, total, body_va - hsize - opt);
    else
        block = mk_pool_alloc(m, pt, t->key, total);
    if (!block)
        return 0;
    uint64_t hdr = block + opt;
    mk_write_field(m, hdr, "_OBJECT_HEADER.PointerCount", 1);
    mk_write_field(m, hdr, "_OBJECT_HEADER.HandleCount", 1);
    mk_write_field(m, hdr, "_OBJECT_HEADER.TypeIndex", t->index ^ m->ob_cookie ^ ((hdr >> 8) & 0xff));
    mk_write_field(m, hdr, "_OBJECT_HEADER.InfoMask", info_mask);
    return m->failed ? 0 : hdr + hsize;
}

int mk_objtypes_init(mk_machine *m)
{
    do
        m->ob_cookie = (uint8_t)mk_rand(m);
    while (m->ob_cookie == 0);
    mk_w8(m, m->kas, mk_sym_va(m, "ObHeaderCookie"), m->ob_cookie);

    /* ObpInfoMaskToOffset[mask]: bytes of the optional headers in mask. */
    uint32_t rva;
    if (mk_sym_opt(m, "ObpInfoMaskToOffset", &rva) == 0) {
        uint8_t tab[256];
        for (unsigned i = 0; i < 256; i++)
            tab[i] = (uint8_t)infos_size(m, i);
        mk_wr(m, m->kas, m->k.base + rva, tab, sizeof tab);
    }

    uint64_t index_table = mk_sym_va(m, "ObTypeIndexTable");
    mk_w64(m, m->kas, index_table + 8, 0xbad0b0b0); /* slot 1, as Windows leaves it */
    uint64_t tsize = mk_sizeof(m, "_OBJECT_TYPE");
    if (m->failed)
        return -1;
    /* The "Type" type first: every _OBJECT_TYPE is an object of it. */
    size_t nt = sizeof type_table / sizeof type_table[0];
    for (size_t i = 0; i < nt; i++) {
        mk_objtype *t = &m->types[m->ntypes++];
        t->name = type_table[i].name;
        t->index = type_table[i].index;
        t->key = mk_tag(type_table[i].key);
    }
    for (size_t i = 0; i < nt; i++) {
        mk_objtype *t = &m->types[i];
        uint64_t body = mk_object_create(m, "Type", MK_POOL_NONPAGED, tsize, MK_OBINFO_NAME | MK_OBINFO_CREATOR, 0);
        if (!body)
            return -1;
        t->va = body;
        /* Name info sits right before the creator info and the header. */
        uint64_t hdr = body - m->L.oh_body;
        uint64_t name_info = hdr - info_size(m, 0) - info_size(m, 1);
        uint64_t nbuf = mk_pool_alloc(m, MK_POOL_PAGED, mk_tag("ObNm"), mk_wstr_bytes(t->name));
        uint64_t tbuf = mk_pool_alloc(m, MK_POOL_PAGED, mk_tag("ObNm"), mk_wstr_bytes(t->name));
        mk_unicode_string(m, m->kas, name_info + mk_off(m, "_OBJECT_HEADER_NAME_INFO.Name"), nbuf, t->name);
        mk_unicode_string(m, m->kas, body + mk_off(m, "_OBJECT_TYPE.Name"), tbuf, t->name);
        mk_list_init(m, m->kas, body + mk_off(m, "_OBJECT_TYPE.TypeList"));
        mk_list_init(m, m->kas, body + mk_off(m, "_OBJECT_TYPE.CallbackList"));
        mk_write_field(m, body, "_OBJECT_TYPE.Index", t->index);
        mk_write_field(m, body, "_OBJECT_TYPE.Key", t->key);
        mk_write_field_opt(m, body, "_OBJECT_TYPE.TypeInfo.PoolType",
                           strcmp(t->name, "Token") == 0 || strcmp(t->name, "Key") == 0 ? 1 : 0x200);
        mk_w64(m, m->kas, index_table + 8ull * t->index, body);
        if (type_table[i].global && mk_sym_opt(m, type_table[i].global, &rva) == 0)
            mk_w64(m, m->kas, m->k.base + rva, body);
    }
    return m->failed ? -1 : 0;
}

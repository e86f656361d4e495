/*
 * sym/pdb/prim.c - CodeView simple (primitive) type indices below 0x1000:
 * their C names, sizes and signedness, and the pointer modes.
 *
 * Layer: symbols/types, PDB source. A simple index is a kind in bits 0-7
 * (T_INT4 0x74, T_UQUAD 0x23, T_RCHAR 0x70, T_WCHAR 0x71, ...) and a mode
 * in bits 8-11: 0 the value itself, else a pointer to it (4 near 32-bit,
 * 6 near 64-bit, ...), as in T_64PVOID 0x0603. The names are the C spelling
 * a compiler prints ("unsigned long", "__int64", "wchar_t"); WinDbg's dt
 * spelling (Uint4B, Int8B) is the type database's mapping: pdb.c answers
 * its base_dt_name hook with the CodeView index. Kind and mode numbers
 * from the public cvinfo.h.
 */
#include <string.h>

#include "sym/pdb/pdb_internal.h"
#include "sym/pdb/pdb_layout.h"
#include "util/error.h"

typedef struct prim {
    uint8_t kind;
    uint8_t size;
    uint8_t is_signed;
    const char *name;
} prim;

static const prim prims[] = {
    {0x03, 0, 0, "void"},
    {0x04, 8, 1, "CURRENCY"},
    {0x08, 4, 1, "HRESULT"},
    {0x10, 1, 1, "signed char"},
    {0x11, 2, 1, "short"},
    {0x12, 4, 1, "long"},
    {0x13, 8, 1, "__int64"},
    {0x14, 16, 1, "__int128"},
    {0x20, 1, 0, "unsigned char"},
    {0x21, 2, 0, "unsigned short"},
    {0x22, 4, 0, "unsigned long"},
    {0x23, 8, 0, "unsigned __int64"},
    {0x24, 16, 0, "unsigned __int128"},
    {0x30, 1, 0, "bool"},
    {0x31, 2, 0, "__bool16"},
    {0x32, 4, 0, "__bool32"},
    {0x33, 8, 0, "__bool64"},
    {0x40, 4, 1, "float"},
    {0x41, 8, 1, "double"},
    {0x42, 10, 1, "long double"},
    {0x43, 16, 1, "__float128"},
    {0x44, 6, 1, "__real48"},
    {0x45, 4, 1, "__float32pp"},
    {0x46, 2, 1, "__half"},
    {0x50, 8, 1, "_Complex float"},
    {0x51, 16, 1, "_Complex double"},
    {0x52, 20, 1, "_Complex long double"},
    {0x53, 32, 1, "_Complex __float128"},
    {0x68, 1, 1, "__int8"},
    {0x69, 1, 0, "unsigned __int8"},
    {0x70, 1, 1, "char"},
    {0x71, 2, 0, "wchar_t"},
    {0x72, 2, 1, "short"},
    {0x73, 2, 0, "unsigned short"},
    {0x74, 4, 1, "int"},
    {0x75, 4, 0, "unsigned int"},
    {0x76, 8, 1, "__int64"},
    {0x77, 8, 0, "unsigned __int64"},
    {0x78, 16, 1, "__int128"},
    {0x79, 16, 0, "unsigned __int128"},
    {0x7a, 2, 0, "char16_t"},
    {0x7b, 4, 0, "char32_t"},
    {0x7c, 1, 0, "char8_t"},
};

/* Names a lookup accepts, to the index it answers (the first spelling of each kind above wins). */
static const struct {
    const char *name;
    uint16_t ti;
} aliases[] = {
    {"long long", 0x13},
    {"unsigned long long", 0x23},
    {"__int16", 0x11},
    {"unsigned __int16", 0x21},
    {"__int32", 0x74},
    {"unsigned __int32", 0x75},
    {"unsigned", 0x75},
    {"signed", 0x74},
    {"long int", 0x12},
    {"unsigned long int", 0x22},
    {"short int", 0x11},
    {"unsigned short int", 0x21},
};

static const prim *prim_of(uint32_t kind)
{
    for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++)
        if (prims[i].kind == kind)
            return &prims[i];
    return NULL;
}

nts_status nts__pdb_prim(uint32_t ti, nts_type_info *out)
{
    memset(out, 0, sizeof *out);
    uint32_t kind = ti & 0xff, mode = (ti >> 8) & 0xf;
    const prim *p = ti < CV_FIRST_NONPRIM ? prim_of(kind) : NULL;
    if (!p)
        return nts__fail(NTS_E_NOT_FOUND, "PDB: simple type index 0x%04x (kind 0x%02x) is not known", ti, kind);
    if (mode == 0) {
        out->kind = kind == 0x03 ? NTS_TYPE_VOID : NTS_TYPE_BASE;
        out->name = p->name;
        out->size = p->size;
        out->is_signed = p->is_signed;
        return NTS_OK;
    }
    static const uint8_t ptr_size[8] = {0, 2, 4, 4, 4, 6, 8, 16};
    if (mode > 7)
        return nts__fail(NTS_E_NOT_FOUND, "PDB: simple type index 0x%04x has pointer mode %u", ti, mode);
    out->kind = NTS_TYPE_POINTER;
    out->size = ptr_size[mode];
    out->target = kind;
    return NTS_OK;
}

int nts__pdb_prim_find(const char *name, uint32_t *ti)
{
    for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++)
        if (strcmp(prims[i].name, name) == 0) {
            *ti = prims[i].kind;
            return 1;
        }
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(aliases[i].name, name) == 0) {
            *ti = aliases[i].ti;
            return 1;
        }
    return 0;
}

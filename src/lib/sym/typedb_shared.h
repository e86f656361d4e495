/*
 * sym/typedb_shared.h - the database object behind nts_typedb.
 *
 * Layer: symbols/types. Private to the shared layer (typedb.c,
 * typedb_field.c, typedb_names.c); sources see only typedb_internal.h.
 */
#ifndef NTS_SYM_TYPEDB_SHARED_H
#define NTS_SYM_TYPEDB_SHARED_H

#include "sym/typedb_internal.h"

/* Recursion cap for everything that follows types into types (dt names, lookups). */
#define NTS__TYPE_MAX_DEPTH 64

struct nts__field_cache; /* typedb_field.c */

struct nts_typedb {
    const nts__typedb_ops *ops;
    void *impl;
    struct nts__field_cache *cache; /* allocated on the first nts_type_field */
};

void nts__field_cache_free(struct nts__field_cache *c);

#endif

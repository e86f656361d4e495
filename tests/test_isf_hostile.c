/*
 * tests/test_isf_hostile.c - the ISF source and its JSON reader on hostile
 * input: every prefix of a valid file, thousands of byte flips (whatever
 * opens is walked in full), nesting 10 000 deep, huge and malformed
 * numbers, a struct containing itself by value, missing keys, unknown
 * names, strict-JSON violations, corrupt xz, bad paths. Each must fail with
 * a clear status and message, never crash (run under ASan/UBSan too).
 */
#include "isf_synth.h"

/* ---- hostile input -------------------------------------------------------- */

/* A copy of synth with one substring replaced. */
static char *patched(const char *from, const char *to)
{
    const char *at = strstr(synth, from);
    if (!at)
        return NULL;
    size_t n = strlen(synth) - strlen(from) + strlen(to);
    char *s = malloc(n + 1);
    size_t pre = (size_t)(at - synth);
    memcpy(s, synth, pre);
    strcpy(s + pre, to);
    strcat(s, at + strlen(from));
    return s;
}

/* Open a patched synth; return the status of type_field(path) (or of the open). */
static nts_status patched_field(const char *from, const char *to, const char *path)
{
    char *text = patched(from, to);
    nts_typedb *db = NULL;
    nts_status st;
    if (!text)
        return (nts_status)99;
    st = nts__isf_open_mem(&db, text, strlen(text));
    free(text);
    if (st != NTS_OK)
        return st;
    exercise(db);
    st = field_status(db, path);
    nts_typedb_close(db);
    return st;
}

static void test_hostile(void)
{
    /* every prefix fails cleanly; the whole text opens */
    size_t len = strlen(synth);
    int opened = 0;
    for (size_t i = 0; i < len; i++) {
        nts_typedb *db = NULL;
        if (nts__isf_open_mem(&db, synth, i) == NTS_OK) {
            /* only trailing white space may be cut */
            CHECK(strspn(synth + i, " \n") == len - i);
            nts_typedb_close(db);
            opened++;
        }
    }
    CHECK(opened <= 1);

    /* byte flips: whatever opens is walked in full */
    char *copy = malloc(len + 1);
    uint32_t rng = 12345;
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, synth, len + 1);
        for (int k = 0; k < 1 + round % 3; k++) {
            rng = rng * 1103515245u + 12345u;
            size_t pos = (rng >> 8) % len;
            rng = rng * 1103515245u + 12345u;
            static const char pick[] = "{}[]\":,0123456789-.eE\\ azu";
            copy[pos] = pick[(rng >> 8) % (sizeof pick - 1)];
        }
        nts_typedb *db = NULL;
        if (nts__isf_open_mem(&db, copy, len) == NTS_OK) {
            exercise(db);
            nts_typedb_close(db);
        }
    }
    free(copy);

    /* nesting 10000 deep, at the top and inside a lazily read body */
    {
        size_t depth = 10000;
        char *deep = malloc(2 * depth + 64);
        strcpy(deep, "{\"junk\":");
        size_t p = strlen(deep);
        for (size_t i = 0; i < depth; i++)
            deep[p++] = '[';
        for (size_t i = 0; i < depth; i++)
            deep[p++] = ']';
        strcpy(deep + p, "}");
        CHECK(open_status(deep) == NTS_E_LIMIT);
        CHECK(strstr(nts_last_error(), "nesting") != NULL);
        free(deep);
        char *inner = malloc(6 * depth + 64);
        p = 0;
        for (size_t i = 0; i < depth; i++)
            p += (size_t)sprintf(inner + p, "%s", i % 2 ? "[" : "{\"k\":");
        inner[p] = '\0';
        char *with = malloc(strlen(synth) + 6 * depth + 64);
        char *fieldsx = patched("\"x\":{\"offset\":0,", "\"x\":{\"deep\":@,\"offset\":0,");
        char *at = strchr(fieldsx, '@');
        *at = '\0';
        sprintf(with, "%s%s%s", fieldsx, inner, at + 1); /* unterminated: fails either way */
        CHECK(open_status(with) != NTS_OK);
        free(fieldsx);
        free(with);
        free(inner);
    }

    /* huge and malformed numbers */
    CHECK(patched_field("\"offset\":4,\"type\":" UL "}}},\n\"__anonymous_1\"",
                        "\"offset\":123456789012345678901234567890,\"type\":" UL "}}},\n\"__anonymous_1\"",
                        "_INNER.b") == NTS_E_FORMAT);
    CHECK(patched_field("\"size\":80", "\"size\":1e400", "_OUTER.x") == NTS_E_FORMAT);
    CHECK(patched_field("\"size\":80", "\"size\":-80", "_OUTER.x") == NTS_E_FORMAT);
    CHECK(patched_field("\"size\":80", "\"size\":80.5", "_OUTER.x") == NTS_E_FORMAT);
    CHECK(patched_field("\"size\":80",
                        "\"size\":1000000000000000000000000000000000000000000000000000000000000000000000",
                        "_OUTER.x") == NTS_E_LIMIT);
    CHECK(patched_field("\"size\":80", "\"size\":080", "_OUTER.x") == NTS_E_FORMAT);
    CHECK(patched_field("\"count\":2,", "\"count\":4611686018427387904,", "_OUTER.arr[1]") != NTS_OK);
    /* a struct containing itself by value, through an array */
    CHECK(patched_field("\"me\":{\"offset\":8,\"type\":{\"kind\":\"struct\",\"name\":\"_SELF\"}}",
                        "\"me\":{\"offset\":8,\"type\":{\"kind\":\"array\",\"count\":2,\"subtype\":{\"kind\":\"struct\",\"name\":\"_SELF\"}}}",
                        "_SELF.me[1].me[1].next") == NTS_OK);

    /* missing keys and unknown names */
    CHECK(patched_field("\"size\":80,", "", "_OUTER.x") == NTS_E_FORMAT);
    CHECK(strstr(nts_last_error(), "size") != NULL);
    CHECK(patched_field("\"x\":{\"offset\":0,", "\"x\":{", "_OUTER.x") == NTS_E_FORMAT);
    CHECK(strstr(nts_last_error(), "offset") != NULL);
    CHECK(patched_field("\"bit_length\":2,", "", "_OUTER.bits") == NTS_E_FORMAT);
    CHECK(patched_field("\"count\":2,\"subtype\":{\"kind\":\"struct\"", "\"subtype\":{\"kind\":\"struct\"",
                        "_OUTER.arr") == NTS_E_FORMAT);
    CHECK(patched_field("\"kind\":\"function\"", "\"kind\":\"lambda\"", "_OUTER.fn") == NTS_E_FORMAT);
    CHECK(patched_field("\"name\":\"unsigned long long\"}},", "\"name\":\"u128\"}},", "_OUTER.u1") ==
          NTS_E_FORMAT);
    CHECK(patched_field("\"bit_position\":3,\"bit_length\":2", "\"bit_position\":31,\"bit_length\":2",
                        "_OUTER.bits") == NTS_E_FORMAT);
    CHECK(patched_field("\"kind\":\"union\",\"size\":8", "\"size\":8", "_OUTER.u1") == NTS_E_FORMAT);
    CHECK(patched_field("\"metadata\"", "\"metadota\"", "_OUTER.x") == NTS_E_FORMAT);
    CHECK(patched_field("\"user_types\"", "\"user_typos\"", "_OUTER.x") == NTS_E_FORMAT);
    CHECK(patched_field("\"format\":\"6.1.0\"", "\"format\":\"9.0.0\"", "_OUTER.x") == NTS_E_UNSUPPORTED);
    CHECK(patched_field("\"format\":\"6.1.0\",", "", "_OUTER.x") == NTS_E_FORMAT);
    CHECK(patched_field(BT("pointer", "int", 8, "false") ",", "", "_OUTER.x") == NTS_E_FORMAT);
    CHECK(patched_field("\"endian\":\"little\"}", "\"endian\":\"big\"}", "_OUTER.x") == NTS_E_UNSUPPORTED);
    {
        nts_typedb *db = NULL;
        char *t = patched("\"base\":\"long\"", "\"base\":\"nope\"");
        CHECK(nts__isf_open_mem(&db, t, strlen(t)) == NTS_OK);
        nts_type_id id;
        nts_type_info ti;
        CHECK(nts_type_find(db, "_COLOR", &id) == NTS_OK);
        CHECK(nts_type_get(db, id, &ti) == NTS_E_FORMAT);
        CHECK(nts_type_get(db, id, &ti) == NTS_E_FORMAT); /* stays bad */
        nts_typedb_close(db);
        free(t);
        t = patched("\"Foo\":{\"address\":4096}", "\"Foo\":{\"addr\":4096}");
        CHECK(nts__isf_open_mem(&db, t, strlen(t)) == NTS_OK);
        nts_symbol s;
        CHECK(nts_sym_find(db, "Bar", &s) == NTS_E_FORMAT);
        CHECK(nts_sym_at(db, 0, &s) == NTS_E_FORMAT);
        nts_typedb_close(db);
        free(t);
    }

    /* JSON strictness */
    CHECK(patched_field("\"_INNER\"", "\"_IN\tNER\"", "_OUTER.x") == NTS_E_FORMAT);
    CHECK(patched_field("\"_INNER\"", "\"_IN\\qNER\"", "_OUTER.x") == NTS_E_FORMAT);
    CHECK(patched_field("\"_INNER\"", "\"_IN\\u0000NER\"", "_OUTER.x") == NTS_E_FORMAT);
    CHECK(patched_field("\"_INNER\"", "\"_IN\\ud800NER\"", "_OUTER.x") == NTS_E_FORMAT);
    CHECK(patched_field("\"_INNER\"", "\"_IN\\u12\"", "_OUTER.x") == NTS_E_FORMAT);
    CHECK(patched_field("\"size\":80,", "\"size\":80,,", "_OUTER.x") == NTS_E_FORMAT);
    CHECK(patched_field("\"size\":80,", "\"size\":tru,", "_OUTER.x") == NTS_E_FORMAT);
    CHECK(patched_field("\"Baz\":{\"address\":4096,\"linkage_name\":\"?Baz@@3\"}}}",
                        "\"Baz\":{\"address\":4096,}}}", "_OUTER.x") == NTS_E_FORMAT);
    CHECK(patched_field("\"symbols\"", "\"junk\":[1,2.5e3,true,null,\"s\\u00e9\\ud83d\\ude00\"],\"symbols\"",
                        "_OUTER.x") == NTS_OK);
    {
        char *t = malloc(strlen(synth) + 8);
        strcpy(t, synth);
        strcat(t, "{}");
        CHECK(open_status(t) == NTS_E_FORMAT);
        CHECK(strstr(nts_last_error(), "after the end") != NULL);
        free(t);
    }
    CHECK(open_status("") == NTS_E_FORMAT);
    CHECK(open_status("[]") == NTS_E_FORMAT);
    CHECK(open_status("\xFD" "7zXZ") != NTS_OK);
    {
        nts_typedb *db = NULL;
        static const uint8_t junk_xz[] = {0xFD, '7', 'z', 'X', 'Z', 0, 0, 4, 0xE6, 0xD6, 0xB4, 0x46, 1, 2, 3};
#ifdef NTS_HAVE_LIBLZMA
        CHECK(nts__isf_open_mem(&db, junk_xz, sizeof junk_xz) == NTS_E_FORMAT);
#else
        CHECK(nts__isf_open_mem(&db, junk_xz, sizeof junk_xz) == NTS_E_UNSUPPORTED);
        CHECK(strstr(nts_last_error(), "liblzma") != NULL);
#endif
        CHECK(db == NULL);
    }
    nts_typedb *db = NULL;
    CHECK(nts_typedb_open_isf(&db, "/nonexistent/x.json") == NTS_E_NOT_FOUND);
    CHECK(nts_typedb_open_isf(&db, "/") == NTS_E_IO);
    CHECK(nts_typedb_open_isf(NULL, "x") == NTS_E_INVALID_ARG);
}


int main(void)
{
    test_hostile();
    return check_done("test_isf_hostile");
}

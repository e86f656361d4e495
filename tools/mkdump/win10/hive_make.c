/*
 * tools/mkdump/win10/hive_make.c - hive files for the builder's registry:
 * made by Debian's hivex from a spec, read by a small walker of our own.
 *
 * hivex cannot create a hive from nothing, so a minimal regf is written
 * here (base block with its checksum, one 4 KB bin holding the root key and
 * its security cell), then `hivexsh -w -f SCRIPT HIVE` adds every key (each
 * parent before its children) and sets every value as raw bytes
 * (hex:TYPE:..), and commits. The walker (hm_find, hm_count_keys) follows
 * lf/lh/li/ri lists with bounds checks and caps; the builder is a test
 * oracle and does not read hives with ntscope's library. hm_vol_* write a
 * volatile storage bin with cells at chosen offsets (the seed's
 * 80008f90 key).
 */
#include "registry_mk.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static uint16_t g16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t g32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* ---- the spec ----------------------------------------------------------- */

rk_key *rk_key_add(rk_spec *s, const char *path)
{
    for (size_t i = 0; i < s->nkeys; i++)
        if (!strcasecmp(s->keys[i].path, path))
            return &s->keys[i];
    /* Parents first. */
    const char *bs = strrchr(path, '\\');
    if (bs) {
        char parent[512];
        snprintf(parent, sizeof parent, "%.*s", (int)(bs - path), path);
        rk_key_add(s, parent);
    }
    rk_key *nk = realloc(s->keys, (s->nkeys + 1) * sizeof *nk);
    if (!nk)
        abort();
    s->keys = nk;
    rk_key *k = &s->keys[s->nkeys++];
    memset(k, 0, sizeof *k);
    k->path = strdup(path);
    k->cell = RK_NIL;
    return k;
}

void rk_val(rk_key *k, const char *name, uint32_t type, const void *data, uint32_t len)
{
    rk_value *nv = realloc(k->vals, (k->nvals + 1) * sizeof *nv);
    if (!nv)
        abort();
    k->vals = nv;
    rk_value *v = &k->vals[k->nvals++];
    v->name = strdup(name);
    v->type = type;
    v->len = len;
    v->data = malloc(len ? len : 1);
    if (len)
        memcpy(v->data, data, len);
}

static void rk_str_type(rk_key *k, const char *name, const char *text, uint32_t type)
{
    size_t n = strlen(text);
    uint8_t *b = calloc(2 * n + 2, 1);
    for (size_t i = 0; i < n; i++)
        b[2 * i] = (uint8_t)text[i];
    rk_val(k, name, type, b, (uint32_t)(2 * n + 2));
    free(b);
}

void rk_sz(rk_key *k, const char *name, const char *text) { rk_str_type(k, name, text, 1); }
void rk_esz(rk_key *k, const char *name, const char *text) { rk_str_type(k, name, text, 2); }

void rk_dword(rk_key *k, const char *name, uint32_t v)
{
    uint8_t b[4];
    mk_put32(b, v);
    rk_val(k, name, 4, b, 4);
}

void rk_qword(rk_key *k, const char *name, uint64_t v)
{
    uint8_t b[8];
    mk_put64(b, v);
    rk_val(k, name, 11, b, 8);
}

void rk_spec_free(rk_spec *s)
{
    for (size_t i = 0; i < s->nkeys; i++) {
        for (size_t j = 0; j < s->keys[i].nvals; j++) {
            free(s->keys[i].vals[j].name);
            free(s->keys[i].vals[j].data);
        }
        free(s->keys[i].vals);
        free(s->keys[i].path);
    }
    free(s->keys);
    free(s->file);
    memset(s, 0, sizeof *s);
}

/* ---- the minimal regf --------------------------------------------------- */

/* A self-relative security descriptor: owner BUILTIN\Administrators, group
 * SYSTEM, a DACL granting Everyone KEY_READ and Administrators full control. */
static const uint8_t root_sd[] = {
    0x01, 0x00, 0x04, 0x80, 0x14, 0x00, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x30, 0x00, 0x00, 0x00,
    /* owner S-1-5-32-544 */
    0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x20, 0x00, 0x00, 0x00, 0x20, 0x02, 0x00, 0x00,
    /* group S-1-5-18 */
    0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x12, 0x00, 0x00, 0x00,
    /* DACL: revision 2, size 0x34, 2 ACEs */
    0x02, 0x00, 0x34, 0x00, 0x02, 0x00, 0x00, 0x00,
    /* ACCESS_ALLOWED Everyone 0x20019 */
    0x00, 0x00, 0x14, 0x00, 0x19, 0x00, 0x02, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00,
    /* ACCESS_ALLOWED Administrators 0xf003f */
    0x00, 0x00, 0x18, 0x00, 0x3f, 0x00, 0x0f, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
    0x20, 0x00, 0x00, 0x00, 0x20, 0x02, 0x00, 0x00,
};

static uint32_t regf_checksum(const uint8_t *bb)
{
    uint32_t x = 0;
    for (int i = 0; i < 127; i++)
        x ^= g32(bb + 4 * i);
    return x == 0 ? 1 : x == 0xffffffffu ? 0xfffffffeu : x;
}

/* Base block + one bin: root nk at 0x20, sk after it, the rest free. */
static size_t minimal_regf(uint8_t *f, const char *root_name, const char *base_name, uint64_t ts)
{
    memset(f, 0, 0x2000);
    memcpy(f, "regf", 4);
    mk_put32(f + 4, 1);
    mk_put32(f + 8, 1);
    mk_put64(f + 0xc, ts);
    mk_put32(f + 0x14, 1);
    mk_put32(f + 0x18, 5);
    mk_put32(f + 0x20, 1);
    mk_put32(f + 0x24, 0x20);
    mk_put32(f + 0x28, 0x1000);
    mk_put32(f + 0x2c, 1);
    for (size_t i = 0; base_name[i] && i < 31; i++)
        f[0x30 + 2 * i] = (uint8_t)base_name[i];
    uint8_t *bin = f + 0x1000;
    memcpy(bin, "hbin", 4);
    mk_put32(bin + 8, 0x1000);
    mk_put64(bin + 0x14, ts);
    size_t nlen = strlen(root_name);
    uint32_t nk_size = (uint32_t)((4 + 0x4c + nlen + 7) & ~7u);
    uint32_t sk_off = 0x20 + nk_size;
    uint32_t sk_size = (uint32_t)((4 + 0x14 + sizeof root_sd + 7) & ~7u);
    uint8_t *nk = bin + 0x20;
    mk_put32(nk, (uint32_t)-(int32_t)nk_size);
    nk += 4;
    memcpy(nk, "nk", 2);
    mk_put16(nk + 2, 0x2c); /* KEY_HIVE_ENTRY | KEY_NO_DELETE | KEY_COMP_NAME */
    mk_put64(nk + 4, ts);
    mk_put32(nk + 0x10, RK_NIL);
    mk_put32(nk + 0x1c, RK_NIL);
    mk_put32(nk + 0x20, RK_NIL);
    mk_put32(nk + 0x28, RK_NIL);
    mk_put32(nk + 0x2c, sk_off);
    mk_put32(nk + 0x30, RK_NIL);
    mk_put16(nk + 0x48, (uint16_t)nlen);
    memcpy(nk + 0x4c, root_name, nlen);
    uint8_t *sk = bin + sk_off;
    mk_put32(sk, (uint32_t)-(int32_t)sk_size);
    sk += 4;
    memcpy(sk, "sk", 2);
    mk_put32(sk + 4, sk_off);
    mk_put32(sk + 8, sk_off);
    mk_put32(sk + 0xc, 1);
    mk_put32(sk + 0x10, sizeof root_sd);
    memcpy(sk + 0x14, root_sd, sizeof root_sd);
    uint32_t free_off = sk_off + sk_size;
    mk_put32(bin + free_off, 0x1000 - free_off);
    mk_put32(f + 0x1fc, regf_checksum(f));
    return 0x2000;
}

int hm_have_hivex(void)
{
    return system("command -v hivexsh >/dev/null 2>&1") == 0 ? 0 : -1;
}

/* A hivexsh path component: names may hold spaces but not '\\'. */
static void script_value(FILE *f, const rk_value *v)
{
    fprintf(f, "%s\nhex:%u:", v->name[0] ? v->name : "@", v->type);
    for (uint32_t i = 0; i < v->len; i++)
        fprintf(f, i ? ",%02x" : "%02x", v->data[i]);
    fprintf(f, "\n");
}

static int read_file(mk_machine *m, const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return mk_fail(m, "registry: cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0x2000 || st.st_size > (1ll << 31)) {
        fclose(f);
        return mk_fail(m, "registry: %s is not a hive (size)", path);
    }
    *len = (size_t)st.st_size;
    *out = malloc(*len);
    if (!*out || fread(*out, 1, *len, f) != *len) {
        fclose(f);
        return mk_fail(m, "registry: cannot read %s", path);
    }
    fclose(f);
    if (memcmp(*out, "regf", 4) != 0 || memcmp(*out + 0x1000, "hbin", 4) != 0)
        return mk_fail(m, "registry: %s is not a regf hive", path);
    return 0;
}

int hm_make(mk_machine *m, rk_spec *s, const char *tmpdir)
{
    char hive[512], script[512], cmd[1200];
    snprintf(hive, sizeof hive, "%s/%s.hive", tmpdir, s->mount);
    snprintf(script, sizeof script, "%s/%s.hivexsh", tmpdir, s->mount);
    uint8_t f[0x2000];
    size_t n = minimal_regf(f, s->root_name, s->base_name, m->boot_time);
    FILE *fp = fopen(hive, "wb");
    if (!fp || fwrite(f, 1, n, fp) != n || fclose(fp) != 0)
        return mk_fail(m, "registry: cannot write %s", hive);
    fp = fopen(script, "w");
    if (!fp)
        return mk_fail(m, "registry: cannot write %s", script);
    for (size_t i = 0; i < s->nkeys; i++) {
        const rk_key *k = &s->keys[i];
        const char *bs = strrchr(k->path, '\\');
        if (bs)
            fprintf(fp, "cd \\%.*s\n", (int)(bs - k->path), k->path);
        else
            fprintf(fp, "cd \\ \n");
        fprintf(fp, "add %s\n", bs ? bs + 1 : k->path);
        if (k->nvals) {
            fprintf(fp, "cd \\%s\nsetval %zu\n", k->path, k->nvals);
            for (size_t j = 0; j < k->nvals; j++)
                script_value(fp, &k->vals[j]);
        }
    }
    fprintf(fp, "commit\nquit\n");
    fclose(fp);
    snprintf(cmd, sizeof cmd, "hivexsh -w -f '%s' '%s' >'%s.log' 2>&1", script, hive, hive);
    int rc = system(cmd);
    if (rc != 0)
        return mk_fail(m, "registry: hivexsh failed on %s (exit %d; see %s.log)", s->mount,
                       WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, hive);
    if (read_file(m, hive, &s->file, &s->len) != 0)
        return -1;
    unlink(script);
    snprintf(cmd, sizeof cmd, "%s.log", hive);
    unlink(cmd);
    unlink(hive);
    return 0;
}

int hm_load(mk_machine *m, rk_spec *s)
{
    return read_file(m, s->source, &s->file, &s->len);
}

/* ---- the walker --------------------------------------------------------- */

/* Data of the allocated cell at index c (file = base block + bins). */
static uint8_t *cell(const uint8_t *file, size_t len, uint32_t c, uint32_t *clen)
{
    if (c == RK_NIL || (uint64_t)c + 0x1004 > len)
        return NULL;
    int32_t size = (int32_t)g32(file + 0x1000 + c);
    if (size >= 0)
        return NULL;
    uint32_t us = (uint32_t)-size;
    if (us < 8 || (uint64_t)c + 0x1000 + us > len)
        return NULL;
    *clen = us - 4;
    return (uint8_t *)file + 0x1000 + c + 4;
}

uint8_t *hm_nk(uint8_t *file, size_t len, uint32_t c)
{
    uint32_t l;
    uint8_t *p = cell(file, len, c, &l);
    return p && l >= 0x4c && p[0] == 'n' && p[1] == 'k' ? p : NULL;
}

/* The subkey cells of a key (stable), up to max. */
static size_t subkeys(const uint8_t *file, size_t len, const uint8_t *nk, uint32_t *out, size_t max)
{
    uint32_t l, n = 0;
    if (!g32(nk + 0x14))
        return 0;
    uint8_t *lst = cell(file, len, g32(nk + 0x1c), &l);
    if (!lst || l < 4)
        return 0;
    uint32_t leaves[512];
    size_t nleaves = 0;
    if (lst[0] == 'r' && lst[1] == 'i') {
        for (uint32_t i = 0; i < g16(lst + 2) && 4 + 4 * i + 4 <= l && nleaves < 512; i++)
            leaves[nleaves++] = g32(lst + 4 + 4 * i);
    } else {
        leaves[nleaves++] = g32(nk + 0x1c);
    }
    for (size_t j = 0; j < nleaves; j++) {
        uint8_t *lf = cell(file, len, leaves[j], &l);
        if (!lf || l < 4)
            continue;
        unsigned step = (lf[1] == 'f' || lf[1] == 'h') ? 8 : lf[1] == 'i' ? 4 : 0;
        if (!step || lf[0] != 'l')
            continue;
        for (uint32_t i = 0; i < g16(lf + 2) && 4 + step * i + 4 <= l && n < max; i++)
            out[n++] = g32(lf + 4 + step * i);
    }
    return n;
}

static int name_eq(const uint8_t *nk, const char *name, size_t nlen)
{
    uint16_t l = g16(nk + 0x48);
    if (g16(nk + 2) & 0x20) {
        if (l != nlen)
            return 0;
        for (size_t i = 0; i < nlen; i++)
            if (toupper(nk[0x4c + i]) != toupper((unsigned char)name[i]))
                return 0;
        return 1;
    }
    if (l != 2 * nlen)
        return 0;
    for (size_t i = 0; i < nlen; i++)
        if (nk[0x4d + 2 * i] || toupper(nk[0x4c + 2 * i]) != toupper((unsigned char)name[i]))
            return 0;
    return 1;
}

uint32_t hm_find(const uint8_t *file, size_t len, const char *path)
{
    uint32_t cur = g32(file + 0x24);
    const char *p = path;
    static uint32_t kids[1 << 16];
    for (unsigned depth = 0; *p && depth < 512; depth++) {
        while (*p == '\\')
            p++;
        size_t n = strcspn(p, "\\");
        if (!n)
            break;
        uint8_t *nk = hm_nk((uint8_t *)file, len, cur);
        if (!nk)
            return RK_NIL;
        size_t nk_kids = subkeys(file, len, nk, kids, sizeof kids / sizeof kids[0]);
        uint32_t found = RK_NIL;
        for (size_t i = 0; i < nk_kids && found == RK_NIL; i++) {
            uint8_t *c = hm_nk((uint8_t *)file, len, kids[i]);
            uint32_t l;
            if (c && cell(file, len, kids[i], &l) && 0x4cu + g16(c + 0x48) <= l && name_eq(c, p, n))
                found = kids[i];
        }
        if (found == RK_NIL)
            return RK_NIL;
        cur = found;
        p += n;
    }
    return cur;
}

uint64_t hm_count_keys(const uint8_t *file, size_t len)
{
    size_t cap = 1024, top = 0;
    uint32_t *stack = malloc(cap * sizeof *stack);
    uint8_t *seen = calloc(len / 8 + 1, 1);
    uint32_t *kids = malloc(sizeof *kids * 65536);
    uint64_t count = 0;
    if (!stack || !seen || !kids)
        goto out;
    stack[top++] = g32(file + 0x24);
    while (top) {
        uint32_t c = stack[--top];
        if ((uint64_t)c / 8 >= len / 8 + 1 || (seen[c / 8] >> (c % 8) & 1))
            continue;
        seen[c / 8] |= (uint8_t)(1 << (c % 8));
        uint8_t *nk = hm_nk((uint8_t *)file, len, c);
        if (!nk)
            continue;
        count++;
        size_t n = subkeys(file, len, nk, kids, 65536);
        for (size_t i = 0; i < n; i++) {
            if (top == cap) {
                uint32_t *ns = realloc(stack, 2 * cap * sizeof *ns);
                if (!ns)
                    goto out;
                stack = ns;
                cap *= 2;
            }
            stack[top++] = kids[i];
        }
    }
out:
    free(stack);
    free(seen);
    free(kids);
    return count;
}

/* ---- volatile storage ---------------------------------------------------- */

int hm_vol_init(hm_vol *v, uint32_t size)
{
    v->size = size;
    v->bin = calloc(size, 1);
    if (!v->bin)
        return -1;
    memcpy(v->bin, "hbin", 4);
    mk_put32(v->bin + 8, size);
    v->next = 0x20;
    return 0;
}

uint32_t hm_vol_cell(hm_vol *v, uint32_t at, uint32_t data_len)
{
    uint32_t size = (data_len + 4 + 7) & ~7u;
    if (!at)
        at = v->next;
    if (at < v->next || at % 8 || at + size > v->size)
        return RK_NIL;
    if (at > v->next)
        mk_put32(v->bin + v->next, at - v->next); /* the gap: a free cell */
    mk_put32(v->bin + at, (uint32_t)-(int32_t)size);
    v->next = at + size;
    return at;
}

uint32_t hm_vol_nk(hm_vol *v, uint32_t at, const char *name, uint32_t parent, uint64_t last_write)
{
    size_t n = strlen(name);
    uint32_t c = hm_vol_cell(v, at, (uint32_t)(0x4c + n));
    if (c == RK_NIL)
        return c;
    uint8_t *p = v->bin + c + 4;
    memcpy(p, "nk", 2);
    mk_put16(p + 2, 0x21); /* KEY_VOLATILE | KEY_COMP_NAME */
    mk_put64(p + 4, last_write);
    mk_put32(p + 0x10, parent);
    mk_put32(p + 0x1c, RK_NIL);
    mk_put32(p + 0x20, RK_NIL);
    mk_put32(p + 0x28, RK_NIL);
    mk_put32(p + 0x2c, RK_NIL);
    mk_put32(p + 0x30, RK_NIL);
    mk_put16(p + 0x48, (uint16_t)n);
    memcpy(p + 0x4c, name, n);
    return c;
}

uint32_t hm_vol_lh(hm_vol *v, const uint32_t *cells, const uint32_t *hashes, uint16_t n)
{
    uint32_t c = hm_vol_cell(v, 0, 4u + 8u * n);
    if (c == RK_NIL)
        return c;
    uint8_t *p = v->bin + c + 4;
    memcpy(p, "lh", 2);
    mk_put16(p + 2, n);
    for (uint16_t i = 0; i < n; i++) {
        mk_put32(p + 4 + 8 * i, cells[i]);
        mk_put32(p + 8 + 8 * i, hashes[i]);
    }
    return c;
}

void hm_vol_finish(hm_vol *v)
{
    if (v->next < v->size)
        mk_put32(v->bin + v->next, v->size - v->next);
    v->next = v->size;
}

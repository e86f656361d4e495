/*
 * tests/test_mdmp_hostile.c - the minidump reader on damaged files made here:
 * truncated and misplaced directories, streams past the end of the file,
 * counts of 2^32 and 2^64, overlapping, unsorted, wrapping and truncated
 * memory ranges, strings with odd or huge lengths, short contexts, wrong
 * descriptor sizes, duplicate streams. Every case must open (or fail with a
 * message naming the field), never read outside the file, and report what it
 * skipped in the stream's problem.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ntscope/minidump.h"
#include "ntscope/vas.h"

/* A minidump under construction: header at 0, then whatever is appended. */
typedef struct mb {
    uint8_t *b;
    size_t len, cap;
    uint32_t dir[32][3];
    int ndir;
} mb;

static size_t put(mb *m, const void *p, size_t n)
{
    if (m->len + n > m->cap) {
        m->cap = (m->len + n) * 2 + 256;
        m->b = realloc(m->b, m->cap);
    }
    size_t at = m->len;
    if (p)
        memcpy(m->b + at, p, n);
    else
        memset(m->b + at, 0, n);
    m->len += n;
    return at;
}

static void w32(mb *m, size_t at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        m->b[at + i] = (uint8_t)(v >> 8 * i);
}

static void w64(mb *m, size_t at, uint64_t v)
{
    w32(m, at, (uint32_t)v);
    w32(m, at + 4, (uint32_t)(v >> 32));
}

static size_t p32(mb *m, uint32_t v)
{
    size_t at = put(m, NULL, 4);
    w32(m, at, v);
    return at;
}

static size_t p64(mb *m, uint64_t v)
{
    size_t at = put(m, NULL, 8);
    w64(m, at, v);
    return at;
}

static void start(mb *m)
{
    memset(m, 0, sizeof *m);
    put(m, "MDMP", 4);
    p32(m, 0xa793);
    put(m, NULL, 24);
}

/* Begin a stream of this type at the current end; end_stream sets its size. */
static size_t begin(mb *m, uint32_t type)
{
    m->dir[m->ndir][0] = type;
    m->dir[m->ndir][2] = (uint32_t)m->len;
    return m->len;
}

static void end_stream(mb *m)
{
    m->dir[m->ndir][1] = (uint32_t)(m->len - m->dir[m->ndir][2]);
    m->ndir++;
}

/* Write the directory at the end and point the header at it. */
static void finish(mb *m)
{
    size_t at = m->len;
    for (int i = 0; i < m->ndir; i++)
        for (int k = 0; k < 3; k++)
            p32(m, m->dir[i][k]);
    w32(m, 8, (uint32_t)m->ndir);
    w32(m, 12, (uint32_t)at);
    w32(m, 20, 0x5f000000);
}

static size_t mdstring(mb *m, uint32_t bytes, const char *ascii)
{
    size_t at = p32(m, bytes);
    for (const char *c = ascii; *c; c++) {
        uint8_t u[2] = {(uint8_t)*c, 0};
        put(m, u, 2);
    }
    return at;
}

static void sysinfo(mb *m, uint16_t arch)
{
    begin(m, NTS_MDMP_STREAM_SYSTEM_INFO);
    size_t at = put(m, NULL, 56);
    m->b[at] = (uint8_t)arch;
    m->b[at + 6] = 4;
    w32(m, at + 16, 19041);
    end_stream(m);
}

static nts_dump *open_buf(mb *m, nts_status want)
{
    nts_dump *d = NULL;
    nts_status st = nts_dump_open_mem(&d, m->b, m->len, NULL);
    if (st != want)
        fprintf(stderr, "open: %d (%s), wanted %d\n", st, nts_last_error(), want);
    CHECK(st == want);
    return st == NTS_OK ? d : NULL;
}

static const char *problem_of(nts_dump *d, uint32_t type)
{
    const nts_mdmp_info *mi = NULL;
    if (nts_mdmp_get_info(d, &mi) != NTS_OK)
        return NULL;
    for (size_t i = 0; i < mi->stream_count; i++) {
        nts_mdmp_stream s;
        if (nts_mdmp_stream_get(d, i, &s) == NTS_OK && s.type == type && s.problem)
            return s.problem;
    }
    return NULL;
}

/* Read every getter's every entry (the sanitizers watch). */
static void touch_all(nts_dump *d)
{
    const nts_mdmp_info *mi = NULL;
    if (nts_mdmp_get_info(d, &mi) != NTS_OK)
        return;
    nts_vas *v = NULL;
    nts_vas_open_kernel(&v, d);
    uint8_t buf[64];
    for (size_t i = 0; i < mi->thread_count; i++) {
        nts_mdmp_thread t;
        nts_context_x64 c;
        nts_context_x86 c8;
        nts_mdmp_thread_get(d, i, &t);
        nts_mdmp_thread_context_x64(d, i, &c);
        nts_mdmp_thread_context_x86(d, i, &c8);
        if (v)
            nts_vas_read(v, t.stack_start, buf, sizeof buf, NULL);
    }
    for (size_t i = 0; i < mi->module_count; i++) {
        nts_mdmp_module m;
        nts_mdmp_module_get(d, i, &m);
    }
    for (size_t i = 0; i < mi->memory_range_count; i++) {
        nts_mdmp_range r;
        nts_mdmp_range_get(d, i, &r);
        if (v)
            nts_vas_read(v, r.va, buf, sizeof buf, NULL);
    }
    nts_vas_close(v);
}

static void header_cases(void)
{
    mb m;
    /* too short, wrong version */
    start(&m);
    nts_dump *d = NULL;
    CHECK(nts_dump_open_mem(&d, m.b, 20, NULL) == NTS_E_FORMAT);
    CHECK(strstr(nts_last_error(), "MINIDUMP_HEADER") != NULL);
    w32(&m, 4, 0x1234);
    CHECK(nts_dump_open_mem(&d, m.b, m.len, NULL) == NTS_E_FORMAT);
    CHECK(strstr(nts_last_error(), "0x00001234") != NULL);
    w32(&m, 4, 0xa793);
    /* header only: no streams */
    d = open_buf(&m, NTS_OK);
    if (d) {
        const nts_mdmp_info *mi = NULL;
        CHECK(nts_mdmp_get_info(d, &mi) == NTS_OK);
        CHECK_EQ_U64(mi->thread_count, 0);
        CHECK(nts_dump_vblocks(d, NULL) == 0);
        nts_mdmp_thread t;
        CHECK(nts_mdmp_thread_get(d, 0, &t) == NTS_E_NOT_FOUND);
        nts_context_x64 c;
        CHECK(nts_mdmp_exception_context_x64(d, &c) == NTS_E_NOT_FOUND);
        nts_dump_close(d);
    }
    /* directory past the end of the file: the one refusal */
    w32(&m, 8, 3);
    w32(&m, 12, 0x100000);
    CHECK(nts_dump_open_mem(&d, m.b, m.len, NULL) == NTS_E_FORMAT);
    CHECK(strstr(nts_last_error(), "StreamDirectoryRva 0x100000") != NULL);
    /* NumberOfStreams 2^32-1 with the directory at the end: clipped to the file */
    sysinfo(&m, 9);
    finish(&m);
    w32(&m, 8, 0xffffffff);
    d = open_buf(&m, NTS_OK);
    if (d) {
        const nts_mdmp_info *mi = NULL;
        nts_mdmp_get_info(d, &mi);
        CHECK(strstr(mi->problem, "NumberOfStreams 4294967295") != NULL);
        CHECK(mi->have_system_info);
        touch_all(d);
        nts_dump_close(d);
    }
    free(m.b);
}

static void stream_cases(void)
{
    mb m;
    start(&m);
    sysinfo(&m, 9);
    /* a ThreadList claiming 2^32-1 threads, holding one with a short context */
    begin(&m, NTS_MDMP_STREAM_THREAD_LIST);
    p32(&m, 0xffffffff);
    size_t th = put(&m, NULL, 48);
    end_stream(&m);
    w32(&m, th, 0x42);
    size_t ctx = put(&m, NULL, 0x10);
    w32(&m, th + 40, 0x10);
    w32(&m, th + 44, (uint32_t)ctx);
    /* a ModuleList past the end of the file */
    m.dir[m.ndir][0] = NTS_MDMP_STREAM_MODULE_LIST;
    m.dir[m.ndir][1] = 0x1000;
    m.dir[m.ndir][2] = 0x7ffffff0;
    m.ndir++;
    /* MiscInfo with an unknown size, a second SystemInfo */
    begin(&m, NTS_MDMP_STREAM_MISC_INFO);
    size_t misc = put(&m, NULL, 24);
    w32(&m, misc, 9999);
    end_stream(&m);
    sysinfo(&m, 0);
    /* an exception with 100 parameters and a context past the end */
    begin(&m, NTS_MDMP_STREAM_EXCEPTION);
    size_t ex = put(&m, NULL, 168);
    w32(&m, ex, 0x42);
    w32(&m, ex + 8, 0xc0000005);
    w32(&m, ex + 32, 100);
    w32(&m, ex + 160, 0x4d0);
    w32(&m, ex + 164, 0x7ffffff0);
    end_stream(&m);
    /* HandleData with 8-byte descriptors */
    begin(&m, NTS_MDMP_STREAM_HANDLE_DATA);
    p32(&m, 16);
    p32(&m, 8);
    p32(&m, 1000);
    p32(&m, 0);
    end_stream(&m);
    /* an unknown stream id */
    begin(&m, 0x12345678);
    p32(&m, 7);
    end_stream(&m);
    finish(&m);
    nts_dump *d = open_buf(&m, NTS_OK);
    if (d) {
        const nts_mdmp_info *mi = NULL;
        nts_mdmp_get_info(d, &mi);
        CHECK_EQ_U64(mi->thread_count, 1);
        CHECK(problem_of(d, NTS_MDMP_STREAM_THREAD_LIST) &&
              strstr(problem_of(d, NTS_MDMP_STREAM_THREAD_LIST), "NumberOfThreads 4294967295"));
        CHECK_EQ_U64(mi->module_count, 0);
        CHECK(problem_of(d, NTS_MDMP_STREAM_MODULE_LIST) &&
              strstr(problem_of(d, NTS_MDMP_STREAM_MODULE_LIST), "past the end"));
        CHECK(problem_of(d, NTS_MDMP_STREAM_MISC_INFO) != NULL);
        CHECK(problem_of(d, NTS_MDMP_STREAM_SYSTEM_INFO) &&
              strstr(problem_of(d, NTS_MDMP_STREAM_SYSTEM_INFO), "second"));
        CHECK_EQ_U64(mi->processor_architecture, 9); /* the first one counts */
        CHECK_EQ_U64(mi->exception.number_parameters, 100);
        CHECK(problem_of(d, NTS_MDMP_STREAM_EXCEPTION) != NULL);
        nts_context_x64 c;
        CHECK(nts_mdmp_exception_context_x64(d, &c) == NTS_E_FORMAT);
        CHECK(nts_mdmp_thread_context_x64(d, 0, &c) == NTS_E_FORMAT);
        CHECK(strstr(nts_last_error(), "0x10 bytes") != NULL);
        CHECK_EQ_U64(mi->handle_count, 0);
        CHECK(problem_of(d, NTS_MDMP_STREAM_HANDLE_DATA) != NULL);
        nts_mdmp_stream s;
        CHECK(nts_mdmp_stream_get(d, mi->stream_count - 1, &s) == NTS_OK);
        CHECK_EQ_U64(s.type, 0x12345678);
        CHECK(s.name == NULL && s.problem == NULL);
        CHECK(nts_mdmp_stream_name(0x12345678) == NULL);
        touch_all(d);
        nts_dump_close(d);
    }
    free(m.b);
}

static void memory_cases(void)
{
    mb m;
    start(&m);
    sysinfo(&m, 9);
    /* bytes: 0x3000 of pattern, each byte its offset's low byte + 1 */
    size_t data = put(&m, NULL, 0x3000);
    for (size_t i = 0; i < 0x3000; i++)
        m.b[data + i] = (uint8_t)(i / 0x1000 + 1);
    /* MemoryList, unsorted and overlapping:
     *   0x20000+0x1000 -> page 2 (value 2)
     *   0x10000+0x2000 -> pages 0-1 (values 1, 2)
     *   0x11000+0x1000 -> page 2 (value 3): inside the block above, dropped
     *   0xfffffffffffff000+0x2000 -> wraps: clipped to 0x1000
     *   0x30000+0x10000 at the last page: runs past the end, clipped */
    begin(&m, NTS_MDMP_STREAM_MEMORY_LIST);
    p32(&m, 5);
    uint64_t descs[5][3] = {{0x20000, 0x1000, data + 0x1000},
                            {0x10000, 0x2000, data},
                            {0x11000, 0x1000, data + 0x2000},
                            {0xfffffffffffff000ull, 0x2000, data},
                            {0x30000, 0x10000, data + 0x2000}};
    for (int i = 0; i < 5; i++) {
        p64(&m, descs[i][0]);
        p32(&m, (uint32_t)descs[i][1]);
        p32(&m, (uint32_t)descs[i][2]);
    }
    end_stream(&m);
    /* Memory64List: 2^64-1 ranges declared, two held; the first overlaps
     * the MemoryList's 0x10000 block by its second half. */
    begin(&m, NTS_MDMP_STREAM_MEMORY64_LIST);
    p64(&m, UINT64_MAX);
    p64(&m, data);
    p64(&m, 0x11800);
    p64(&m, 0x1000);
    p64(&m, 0x50000);
    p64(&m, 0x2000);
    end_stream(&m);
    finish(&m);
    nts_dump *d = open_buf(&m, NTS_OK);
    if (d) {
        const nts_mdmp_info *mi = NULL;
        nts_mdmp_get_info(d, &mi);
        CHECK_EQ_U64(mi->memory_range_count, 7);
        CHECK(problem_of(d, NTS_MDMP_STREAM_MEMORY_LIST) != NULL);
        CHECK(problem_of(d, NTS_MDMP_STREAM_MEMORY64_LIST) &&
              strstr(problem_of(d, NTS_MDMP_STREAM_MEMORY64_LIST), "NumberOfMemoryRanges"));
        const nts_vblock *b = NULL;
        size_t nb = nts_dump_vblocks(d, &b);
        for (size_t i = 1; i < nb; i++)
            CHECK(b[i - 1].va + b[i - 1].size <= b[i].va);
        for (size_t i = 0; i < nb; i++)
            CHECK(b[i].file_offset + b[i].size <= m.len);
        CHECK(mi->memory_blocks_overlapping >= 1);
        nts_vas *v = NULL;
        CHECK(nts_vas_open_kernel(&v, d) == NTS_OK);
        uint8_t x = 0;
        CHECK(nts_vas_read(v, 0x10000, &x, 1, NULL) == NTS_OK && x == 1);
        CHECK(nts_vas_read(v, 0x11000, &x, 1, NULL) == NTS_OK && x == 2);
        CHECK(nts_vas_read(v, 0x11fff, &x, 1, NULL) == NTS_OK && x == 2);
        /* the Memory64 range 0x11800+0x1000 (file bytes from `data`) keeps its tail */
        CHECK(nts_vas_read(v, 0x12000, &x, 1, NULL) == NTS_OK && x == 1);
        CHECK(nts_vas_read(v, 0x127ff, &x, 1, NULL) == NTS_OK);
        CHECK(nts_vas_read(v, 0x12800, &x, 1, NULL) == NTS_E_NOT_IN_DUMP);
        CHECK(nts_vas_read(v, 0x20000, &x, 1, NULL) == NTS_OK && x == 2);
        CHECK(nts_vas_read(v, 0x30000, &x, 1, NULL) == NTS_OK && x == 3);
        /* 0x30000+0x10000 from data+0x2000 is clipped at the end of the file */
        uint64_t held = m.len - (data + 0x2000);
        CHECK(held < 0x10000);
        CHECK(nts_vas_read(v, 0x30000 + held - 1, &x, 1, NULL) == NTS_OK);
        CHECK(nts_vas_read(v, 0x30000 + held, &x, 1, NULL) == NTS_E_NOT_IN_DUMP);
        CHECK(nts_vas_read(v, 0xffffffffffffffffull, &x, 1, NULL) == NTS_OK && x == 1);
        uint8_t big[0x2000];
        size_t nr = 0;
        CHECK(nts_vas_read(v, 0x10000, big, sizeof big, &nr) == NTS_OK && nr == sizeof big);
        CHECK(nts_vas_read(v, 0x50000, big, sizeof big, &nr) == NTS_OK); /* Memory64 range 2 */
        nts_vas_close(v);
        nts_mdmp_range r;
        CHECK(nts_mdmp_range_get(d, 6, &r) == NTS_OK);
        CHECK(r.from_memory64 && r.va == 0x50000 && r.file_offset == data + 0x1000);
        CHECK(nts_mdmp_range_get(d, 7, &r) == NTS_E_NOT_FOUND);
        touch_all(d);
        nts_dump_close(d);
    }
    free(m.b);
}

static void string_cases(void)
{
    mb m;
    start(&m);
    sysinfo(&m, 9);
    size_t odd = mdstring(&m, 7, "abcd");          /* odd byte length: "abc" */
    size_t huge = mdstring(&m, 0xfffffff0u, "xy"); /* runs to the end of the file */
    begin(&m, NTS_MDMP_STREAM_MODULE_LIST);
    p32(&m, 3);
    size_t mods = put(&m, NULL, 3 * 108);
    end_stream(&m);
    w32(&m, mods + 20, (uint32_t)odd);
    w32(&m, mods + 108 + 20, (uint32_t)huge);
    w32(&m, mods + 216 + 20, 0xfffffffe); /* past the end */
    /* a CodeView record claiming more than the file, another RSDS cut short */
    w32(&m, mods + 76, 0x1000);
    w32(&m, mods + 80, (uint32_t)odd);
    size_t cv = put(&m, "RSDS0123456789abcdef", 20);
    w32(&m, mods + 108 + 76, 20);
    w32(&m, mods + 108 + 80, (uint32_t)cv);
    /* ThreadNames naming a thread with an unterminated name at the end */
    begin(&m, NTS_MDMP_STREAM_THREAD_LIST);
    p32(&m, 1);
    size_t th = put(&m, NULL, 48);
    end_stream(&m);
    w32(&m, th, 7);
    begin(&m, NTS_MDMP_STREAM_THREAD_NAMES);
    p32(&m, 2);
    p32(&m, 7);
    size_t nameref = p64(&m, 0);
    p32(&m, 7); /* a second name for the same thread */
    p64(&m, UINT64_MAX);
    end_stream(&m);
    /* ThreadInfoList: SizeOfHeader 12, SizeOfEntry 64, one entry for thread 7
     * and one for a thread the list does not have */
    begin(&m, NTS_MDMP_STREAM_THREAD_INFO_LIST);
    p32(&m, 12);
    p32(&m, 64);
    p32(&m, 2);
    size_t ti = put(&m, NULL, 128);
    end_stream(&m);
    w32(&m, ti + 64, 9);
    w32(&m, ti, 7);
    w32(&m, ti + 12, 0x103);
    w64(&m, ti + 16, 0x01d7000000000000ull);
    w64(&m, ti + 40, 12345);
    w64(&m, ti + 48, 0x401000);
    w64(&m, ti + 56, 0xf);
    begin(&m, NTS_MDMP_STREAM_COMMENT_W);
    put(&m, "h\0i\0", 5);
    end_stream(&m);
    begin(&m, NTS_MDMP_STREAM_COMMENT_A);
    put(&m, "plain\xff", 6);
    end_stream(&m);
    finish(&m);
    size_t tail = mdstring(&m, 0x100, "zz");
    w64(&m, nameref, tail);
    nts_dump *d = open_buf(&m, NTS_OK);
    if (d) {
        nts_mdmp_module mo;
        CHECK(nts_mdmp_module_get(d, 0, &mo) == NTS_OK);
        CHECK_STR(mo.name, "abc");
        CHECK(!mo.have_pdb70);
        CHECK(nts_mdmp_module_get(d, 1, &mo) == NTS_OK);
        CHECK(strncmp(mo.name, "xy", 2) == 0);
        CHECK(!mo.have_pdb70); /* 20 bytes: shorter than an RSDS record */
        CHECK(nts_mdmp_module_get(d, 2, &mo) == NTS_OK);
        CHECK_STR(mo.name, "");
        nts_mdmp_thread t;
        CHECK(nts_mdmp_thread_get(d, 0, &t) == NTS_OK);
        CHECK(strncmp(t.name, "zz", 2) == 0 || t.name[0] == 0);
        CHECK(t.have_thread_info);
        CHECK_EQ_U64(t.exit_status, 0x103);
        CHECK_EQ_U64(t.create_time, 0x01d7000000000000ull);
        CHECK_EQ_U64(t.user_time, 12345);
        CHECK_EQ_U64(t.start_address, 0x401000);
        CHECK_EQ_U64(t.affinity, 0xf);
        const char *text = NULL;
        uint32_t type = 0;
        CHECK(nts_mdmp_comment_get(d, 0, &type, &text) == NTS_OK);
        CHECK_EQ_U64(type, NTS_MDMP_STREAM_COMMENT_W);
        CHECK_STR(text, "hi");
        CHECK(nts_mdmp_comment_get(d, 1, &type, &text) == NTS_OK);
        CHECK_STR(text, "plain?");
        CHECK_STR(nts_dump_get_info(d)->comment, "hi");
        CHECK(nts_mdmp_comment_get(d, 2, &type, &text) == NTS_E_NOT_FOUND);
        touch_all(d);
        nts_dump_close(d);
    }
    free(m.b);
}

static void list_header_cases(void)
{
    mb m;
    start(&m);
    sysinfo(&m, 9);
    /* HandleData v2 (40-byte descriptors) with one entry */
    begin(&m, NTS_MDMP_STREAM_HANDLE_DATA);
    p32(&m, 16);
    p32(&m, 40);
    p32(&m, 1);
    p32(&m, 0);
    size_t h = put(&m, NULL, 40);
    end_stream(&m);
    w64(&m, h, 0x1c);
    w32(&m, h + 32, 0x77);
    /* MemoryInfoList with 2^64-1 entries, SizeOfEntry 48, unsorted */
    begin(&m, NTS_MDMP_STREAM_MEMORY_INFO_LIST);
    p32(&m, 16);
    p32(&m, 48);
    p64(&m, UINT64_MAX);
    size_t e = put(&m, NULL, 96);
    end_stream(&m);
    w64(&m, e, 0x20000);
    w64(&m, e + 24, 0x1000);
    w64(&m, e + 48, 0x10000);
    w64(&m, e + 48 + 24, 0x1000);
    w32(&m, e + 48 + 32, 0x1000);
    /* UnloadedModuleList with SizeOfHeader larger than the stream */
    begin(&m, NTS_MDMP_STREAM_UNLOADED_MODULE_LIST);
    p32(&m, 1000);
    p32(&m, 24);
    p32(&m, 1);
    end_stream(&m);
    /* TokenStream whose first token claims 0 bytes */
    begin(&m, NTS_MDMP_STREAM_TOKEN);
    p32(&m, 48);
    p32(&m, 3);
    p32(&m, 16);
    p32(&m, 16);
    p32(&m, 0);
    p32(&m, 9);
    p64(&m, 0x44);
    end_stream(&m);
    finish(&m);
    nts_dump *d = open_buf(&m, NTS_OK);
    if (d) {
        const nts_mdmp_info *mi = NULL;
        nts_mdmp_get_info(d, &mi);
        nts_mdmp_handle hd;
        CHECK(nts_mdmp_handle_get(d, 0, &hd) == NTS_OK);
        CHECK_EQ_U64(hd.handle, 0x1c);
        CHECK_EQ_U64(hd.object_info_rva, 0x77);
        CHECK_EQ_U64(mi->memory_info_count, 2);
        nts_mdmp_meminfo mm;
        CHECK(nts_mdmp_meminfo_find(d, 0x10010, &mm) == NTS_OK);
        CHECK_EQ_U64(mm.state, 0x1000);
        CHECK(nts_mdmp_meminfo_find(d, 0x30000, &mm) == NTS_E_NOT_FOUND);
        CHECK_EQ_U64(mi->unloaded_module_count, 0);
        CHECK(problem_of(d, NTS_MDMP_STREAM_UNLOADED_MODULE_LIST) != NULL);
        CHECK_EQ_U64(mi->token_count, 1);
        nts_mdmp_token tk;
        CHECK(nts_mdmp_token_get(d, 0, &tk) == NTS_OK);
        CHECK_EQ_U64(tk.token_id, 9);
        CHECK_EQ_U64(tk.size, 0);
        touch_all(d);
        nts_dump_close(d);
    }
    free(m.b);
}

/* Every prefix of a small valid dump opens or fails cleanly. */
static void truncations(void)
{
    mb m;
    start(&m);
    sysinfo(&m, 0);
    begin(&m, NTS_MDMP_STREAM_THREAD_LIST);
    p32(&m, 1);
    size_t th = put(&m, NULL, 48);
    end_stream(&m);
    size_t ctx = put(&m, NULL, 0x2cc);
    w32(&m, th + 40, 0x2cc);
    w32(&m, th + 44, (uint32_t)ctx);
    w32(&m, ctx + 0xb8, 0x401000);
    begin(&m, NTS_MDMP_STREAM_MEMORY_LIST);
    p32(&m, 1);
    p64(&m, 0x1000);
    p32(&m, 0x2cc);
    p32(&m, (uint32_t)ctx);
    end_stream(&m);
    /* the directory first, so that truncation cuts the streams */
    size_t dir_at = m.len;
    finish(&m);
    memmove(m.b + 32 + 12 * m.ndir, m.b + 32, dir_at - 32);
    for (int i = 0; i < m.ndir; i++) {
        m.dir[i][2] += 12 * m.ndir;
        for (int k = 0; k < 3; k++)
            w32(&m, 32 + 12 * i + 4 * k, m.dir[i][k]);
    }
    w32(&m, 12, 32);
    w32(&m, th + 12 * m.ndir + 44, (uint32_t)(ctx + 12 * m.ndir));
    size_t full = dir_at;
    int opened = 0;
    for (size_t n = 0; n <= full; n++) {
        nts_dump *d = NULL;
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, m.b, n);
        if (nts_dump_open_mem(&d, copy, n, NULL) == NTS_OK) {
            opened++;
            touch_all(d);
            nts_dump_close(d);
        }
        free(copy);
    }
    CHECK(opened > 0);
    free(m.b);
}

int main(void)
{
    header_cases();
    stream_cases();
    memory_cases();
    string_cases();
    list_header_cases();
    truncations();
    return check_done("test_mdmp_hostile");
}

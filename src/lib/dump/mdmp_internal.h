/*
 * dump/mdmp_internal.h - the minidump reader's state, shared by mdmp.c
 * (header, directory, memory blocks), mdmp_streams.c (list streams) and
 * mdmp_context.c (thread contexts).
 *
 * Layer: dump format. Opening records where each list lives in the file and
 * how many entries it holds (after checking them against the stream and the
 * file); the getters decode one entry from the mapping on demand, so opening
 * costs the directory plus one pass over the memory descriptors.
 */
#ifndef NTS_DUMP_MDMP_INTERNAL_H
#define NTS_DUMP_MDMP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "dump/dump_internal.h"
#include "ntscope/minidump.h"

#define NTS_MDMP_SIGNATURE 0x504d444du /* "MDMP" */
#define NTS_MDMP_VERSION 0xa793u
#define NTS_MDMP_HEADER_SIZE 32u
#define NTS_MDMP_DIR_ENTRY 12u
#define NTS_MDMP_MAX_STREAMS 4096u      /* real writers emit a few dozen */
#define NTS_MDMP_MAX_LIST (1u << 20)    /* threads, modules, handles... */
#define NTS_MDMP_MAX_RANGES (1u << 24)  /* memory descriptors */
#define NTS_MDMP_MAX_COMMENTS 16u
#define NTS_MDMP_PROBLEM 200

/* Record sizes. */
#define NTS_MDMP_THREAD_SIZE 48u
#define NTS_MDMP_THREAD_EX_SIZE 64u
#define NTS_MDMP_MODULE_SIZE 108u
#define NTS_MDMP_MEMDESC_SIZE 16u
#define NTS_MDMP_MEM64DESC_SIZE 16u
#define NTS_MDMP_MEMINFO_SIZE 48u
#define NTS_MDMP_UNLOADED_SIZE 24u
#define NTS_MDMP_HANDLE1_SIZE 32u
#define NTS_MDMP_HANDLE2_SIZE 40u
#define NTS_MDMP_THREAD_NAME_SIZE 12u
#define NTS_MDMP_THREAD_INFO_SIZE 64u
#define NTS_MDMP_SYSINFO_SIZE 56u
#define NTS_MDMP_EXCEPTION_SIZE 168u
#define NTS_MDMP_CONTEXT_X64_SIZE 0x4d0u
#define NTS_MDMP_CONTEXT_X86_SIZE 0x2ccu

/* A list stream: count entries of entry_size bytes starting at file offset rva. */
typedef struct nts__mdmp_list {
    uint64_t rva;
    uint32_t entry_size;
    size_t count;
} nts__mdmp_list;

typedef struct nts__mdmp_tname {
    uint32_t thread_id;
    uint64_t rva; /* MINIDUMP_STRING */
} nts__mdmp_tname;

typedef struct nts__mdmp_comment {
    uint32_t type;
    char *text;
} nts__mdmp_comment;

struct nts__mdmp {
    nts_mdmp_info info;
    nts_mdmp_stream *streams;
    char (*problems)[NTS_MDMP_PROBLEM]; /* one per stream, "" when none */
    size_t nstreams;

    nts__mdmp_list threads;   /* entry_size 48 (ThreadList) or 64 (ThreadExList) */
    nts__mdmp_list modules;
    nts__mdmp_list unloaded;
    nts__mdmp_list memlist;   /* MemoryList descriptors */
    nts__mdmp_list mem64;     /* Memory64List descriptors */
    uint64_t mem64_base;      /* Memory64List BaseRva */
    size_t memlist_stream, mem64_stream; /* their directory index, SIZE_MAX if absent */
    uint64_t budget;          /* bytes taken from the memory budget */
    uint32_t seen;            /* stream types (< 32) already decoded */
    uint64_t *mem64_off;      /* file offset of each Memory64List range */
    nts__mdmp_list meminfo;
    int meminfo_sorted;       /* bases ascending and disjoint: binary search */
    nts__mdmp_list handles;
    nts__mdmp_list tokens;    /* entry_size 0: entries are walked (variable size) */
    uint64_t *token_off;      /* file offset of each token entry */
    nts__mdmp_tname *tnames;  /* sorted by thread id */
    size_t ntnames;
    nts__mdmp_list tinfo;     /* ThreadInfoList */
    nts__mdmp_tname *tinfo_index; /* (thread id, file offset of its entry), sorted */
    nts__mdmp_comment comments[NTS_MDMP_MAX_COMMENTS];
    size_t ncomments;
};

/* mdmp.c (nts__mdmp_open and nts__mdmp_free are in dump_internal.h) */
/* Set the stream's problem (first one wins). */
void nts__mdmp_problem(struct nts__mdmp *m, size_t stream, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* The dump's minidump state, or NULL (with the error set) when it is not one. */
const struct nts__mdmp *nts__mdmp_of(const nts_dump *d);

/* MINIDUMP_STRING at rva as UTF-8 into out (n bytes); returns 0 or -1 when
 * unreadable (out is then ""). Odd byte lengths drop the last byte; the
 * length is clipped to the file. */
int nts__mdmp_string(const nts_dump *d, uint64_t rva, char *out, size_t n);

/* mdmp_streams.c: decode one stream into m (called once per stream at open). */
void nts__mdmp_decode_stream(nts_dump *d, struct nts__mdmp *m, size_t i);
/* After every stream: thread names sorted, counts into info. */
nts_status nts__mdmp_finish_streams(nts_dump *d, struct nts__mdmp *m);

/* mdmp_context.c */
void nts__mdmp_decode_context_x86(const uint8_t *p, nts_context_x86 *c);
/* crash64.c */
void nts__decode_context_x64(const uint8_t *p, nts_context_x64 *c);
#include "util/utf16.h"

#endif

/*
 * sym/pdb/pdb_layout.h - on-disk layouts of the PDB (MSF 7.00) structures
 * the reader decodes, pinned by the compiler.
 *
 * Layer: symbols/types, PDB source. The structs are never overlaid on file
 * bytes: they document each layout and give offsetof() values to the
 * readers, which read every field with rd_u16/rd_u32 after a bounds check.
 * Facts from LLVM's PDB format documentation (MsfFile, PdbStream, TpiStream,
 * DbiStream, PublicStream, GlobalStream, CodeViewTypes, CodeViewSymbols) and
 * the public cvinfo.h record kinds and leaf numbers.
 */
#ifndef NTS_SYM_PDB_LAYOUT_H
#define NTS_SYM_PDB_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#pragma pack(push, 1)

/* MSF superblock, at file offset 0. */
typedef struct msf_superblock {
    char FileMagic[32];        /* "Microsoft C/C++ MSF 7.00\r\n\x1a" "DS\0\0\0" */
    uint32_t BlockSize;        /* 512, 1024, 2048 or 4096 */
    uint32_t FreeBlockMapBlock;
    uint32_t NumBlocks;
    uint32_t NumDirectoryBytes;
    uint32_t Unknown;
    uint32_t BlockMapAddr;     /* block holding the directory's block indices */
} msf_superblock;
_Static_assert(offsetof(msf_superblock, BlockSize) == 32, "MSF BlockSize");
_Static_assert(offsetof(msf_superblock, NumBlocks) == 40, "MSF NumBlocks");
_Static_assert(offsetof(msf_superblock, NumDirectoryBytes) == 44, "MSF NumDirectoryBytes");
_Static_assert(offsetof(msf_superblock, BlockMapAddr) == 52, "MSF BlockMapAddr");
_Static_assert(sizeof(msf_superblock) == 56, "MSF superblock size");

/* PDB info stream (stream 1) header; the GUID is present from VC70 on. */
typedef struct pdb_info_header {
    uint32_t Version;   /* 20000404 (VC70) ... 20140508 (VC140) */
    uint32_t Signature; /* time stamp */
    uint32_t Age;
    uint8_t Guid[16];
} pdb_info_header;
_Static_assert(offsetof(pdb_info_header, Age) == 8, "PDB info Age");
_Static_assert(offsetof(pdb_info_header, Guid) == 12, "PDB info Guid");
_Static_assert(sizeof(pdb_info_header) == 28, "PDB info header size");

/* TPI / IPI stream header (streams 2 and 4). */
typedef struct tpi_header {
    uint32_t Version;          /* 20040203 (V80) */
    uint32_t HeaderSize;
    uint32_t TypeIndexBegin;   /* 0x1000 */
    uint32_t TypeIndexEnd;
    uint32_t TypeRecordBytes;  /* records follow the header */
    uint16_t HashStreamIndex;
    uint16_t HashAuxStreamIndex;
    uint32_t HashKeySize;
    uint32_t NumHashBuckets;
    int32_t HashValueBufferOffset;
    uint32_t HashValueBufferLength;
    int32_t IndexOffsetBufferOffset;
    uint32_t IndexOffsetBufferLength;
    int32_t HashAdjBufferOffset;
    uint32_t HashAdjBufferLength;
} tpi_header;
_Static_assert(offsetof(tpi_header, TypeIndexBegin) == 8, "TPI TypeIndexBegin");
_Static_assert(offsetof(tpi_header, TypeRecordBytes) == 16, "TPI TypeRecordBytes");
_Static_assert(offsetof(tpi_header, HashStreamIndex) == 20, "TPI HashStreamIndex");
_Static_assert(sizeof(tpi_header) == 56, "TPI header size");

/* DBI stream (stream 3) header; seven substreams follow it. */
typedef struct dbi_header {
    int32_t VersionSignature;  /* -1 */
    uint32_t VersionHeader;    /* 19990903 (V70) */
    uint32_t Age;
    uint16_t GlobalStreamIndex;
    uint16_t BuildNumber;
    uint16_t PublicStreamIndex;
    uint16_t PdbDllVersion;
    uint16_t SymRecordStream;
    uint16_t PdbDllRbld;
    int32_t ModInfoSize;
    int32_t SectionContributionSize;
    int32_t SectionMapSize;
    int32_t SourceInfoSize;
    int32_t TypeServerMapSize;
    uint32_t MFCTypeServerIndex;
    int32_t OptionalDbgHeaderSize;
    int32_t ECSubstreamSize;
    uint16_t Flags;
    uint16_t Machine;
    uint32_t Padding;
} dbi_header;
_Static_assert(offsetof(dbi_header, Age) == 8, "DBI Age");
_Static_assert(offsetof(dbi_header, GlobalStreamIndex) == 12, "DBI GlobalStreamIndex");
_Static_assert(offsetof(dbi_header, PublicStreamIndex) == 16, "DBI PublicStreamIndex");
_Static_assert(offsetof(dbi_header, SymRecordStream) == 20, "DBI SymRecordStream");
_Static_assert(offsetof(dbi_header, ModInfoSize) == 24, "DBI ModInfoSize");
_Static_assert(offsetof(dbi_header, OptionalDbgHeaderSize) == 48, "DBI OptionalDbgHeaderSize");
_Static_assert(offsetof(dbi_header, ECSubstreamSize) == 52, "DBI ECSubstreamSize");
_Static_assert(offsetof(dbi_header, Machine) == 58, "DBI Machine");
_Static_assert(sizeof(dbi_header) == 64, "DBI header size");

/* One module info record of the DBI module substream (two names follow, then 4-byte padding). */
typedef struct dbi_modinfo {
    uint32_t Unused1;
    uint16_t SC_Section;
    uint8_t SC_Padding1[2];
    int32_t SC_Offset;
    int32_t SC_Size;
    uint32_t SC_Characteristics;
    uint16_t SC_ModuleIndex;
    uint8_t SC_Padding2[2];
    uint32_t SC_DataCrc;
    uint32_t SC_RelocCrc;
    uint16_t Flags;
    uint16_t ModuleSymStream;  /* 0xFFFF: none */
    uint32_t SymByteSize;      /* CodeView symbols, from offset 4 (after the signature) */
    uint32_t C11ByteSize;
    uint32_t C13ByteSize;
    uint16_t SourceFileCount;
    uint8_t Padding[2];
    uint32_t Unused2;
    uint32_t SourceFileNameIndex;
    uint32_t PdbFilePathNameIndex;
    /* char ModuleName[]; char ObjFileName[]; */
} dbi_modinfo;
_Static_assert(offsetof(dbi_modinfo, Flags) == 32, "ModInfo Flags");
_Static_assert(offsetof(dbi_modinfo, ModuleSymStream) == 34, "ModInfo ModuleSymStream");
_Static_assert(offsetof(dbi_modinfo, SymByteSize) == 36, "ModInfo SymByteSize");
_Static_assert(sizeof(dbi_modinfo) == 64, "ModInfo fixed part size");

/* The optional debug header: u16 stream indices, by position. */
enum {
    DBG_FPO = 0,
    DBG_EXCEPTION = 1,
    DBG_FIXUP = 2,
    DBG_OMAP_TO_SRC = 3,
    DBG_OMAP_FROM_SRC = 4,
    DBG_SECTION_HDR = 5,
    DBG_TOKEN_RID_MAP = 6,
    DBG_XDATA = 7,
    DBG_PDATA = 8,
    DBG_NEW_FPO = 9,
    DBG_SECTION_HDR_ORIG = 10,
    DBG_COUNT = 11
};

/* IMAGE_SECTION_HEADER, as stored in the section header stream. */
typedef struct pdb_section_header {
    char Name[8];
    uint32_t VirtualSize;
    uint32_t VirtualAddress;
    uint32_t SizeOfRawData;
    uint32_t PointerToRawData;
    uint32_t PointerToRelocations;
    uint32_t PointerToLinenumbers;
    uint16_t NumberOfRelocations;
    uint16_t NumberOfLinenumbers;
    uint32_t Characteristics;
} pdb_section_header;
_Static_assert(offsetof(pdb_section_header, VirtualSize) == 8, "section VirtualSize");
_Static_assert(offsetof(pdb_section_header, VirtualAddress) == 12, "section VirtualAddress");
_Static_assert(sizeof(pdb_section_header) == 40, "section header size");

/* Publics stream header; a GSI hash (gsi_hash_header ...) and the address map follow. */
typedef struct publics_header {
    uint32_t SymHash;          /* bytes of the GSI hash that follows */
    uint32_t AddrMap;          /* bytes of the address map after it */
    uint32_t NumThunks;
    uint32_t SizeOfThunk;
    uint16_t ISectThunkTable;
    uint8_t Padding[2];
    uint32_t OffThunkTable;
    uint32_t NumSections;
} publics_header;
_Static_assert(offsetof(publics_header, ISectThunkTable) == 16, "publics ISectThunkTable");
_Static_assert(sizeof(publics_header) == 28, "publics header size");

/* GSI hash header (globals stream at offset 0, publics after its header). */
typedef struct gsi_hash_header {
    uint32_t VerSignature;     /* 0xFFFFFFFF */
    uint32_t VerHdr;           /* 0xeffe0000 + 19990810 */
    uint32_t HrSize;           /* bytes of hash records: {u32 Off (+1), u32 CRef} each */
    uint32_t NumBuckets;       /* bytes of the bucket data */
} gsi_hash_header;
_Static_assert(sizeof(gsi_hash_header) == 16, "GSI hash header size");
#define GSI_VER_SIGNATURE 0xFFFFFFFFu
#define GSI_VER_HDR (0xeffe0000u + 19990810u)
#define GSI_HASH_RECORD_SIZE 8u

/* Symbol records: u16 RecordLen (excluding itself), u16 RecordKind, data. */
typedef struct cv_pubsym32 {   /* S_PUB32 */
    uint32_t Flags;            /* 1 code, 2 function, 4 managed, 8 MSIL */
    uint32_t Offset;
    uint16_t Segment;
    /* char Name[]; */
} cv_pubsym32;
_Static_assert(offsetof(cv_pubsym32, Segment) == 8, "S_PUB32 Segment");

typedef struct cv_datasym32 {  /* S_GDATA32, S_LDATA32 */
    uint32_t Type;
    uint32_t Offset;
    uint16_t Segment;
    /* char Name[]; */
} cv_datasym32;
_Static_assert(offsetof(cv_datasym32, Segment) == 8, "S_GDATA32 Segment");

typedef struct cv_refsym2 {    /* S_PROCREF, S_LPROCREF, S_DATAREF */
    uint32_t SumName;
    uint32_t SymOffset;        /* into the module's symbol stream */
    uint16_t Module;           /* 1-based */
    /* char Name[]; */
} cv_refsym2;
_Static_assert(offsetof(cv_refsym2, Module) == 8, "S_PROCREF Module");

typedef struct cv_procsym32 {  /* S_GPROC32, S_LPROC32 (and the _ID forms) */
    uint32_t Parent;
    uint32_t End;
    uint32_t Next;
    uint32_t CodeSize;
    uint32_t DbgStart;
    uint32_t DbgEnd;
    uint32_t FunctionType;     /* a TPI index (an IPI id in the _ID forms) */
    uint32_t Offset;
    uint16_t Segment;
    uint8_t Flags;
    /* char Name[]; */
} cv_procsym32;
_Static_assert(offsetof(cv_procsym32, CodeSize) == 12, "S_GPROC32 CodeSize");
_Static_assert(offsetof(cv_procsym32, FunctionType) == 24, "S_GPROC32 FunctionType");
_Static_assert(offsetof(cv_procsym32, Segment) == 32, "S_GPROC32 Segment");
_Static_assert(offsetof(cv_procsym32, Flags) == 34, "S_GPROC32 Flags");
_Static_assert(sizeof(cv_procsym32) == 35, "S_GPROC32 fixed part");

typedef struct cv_udtsym {     /* S_UDT: a typedef name */
    uint32_t Type;
    /* char Name[]; */
} cv_udtsym;

typedef struct cv_sectionsym { /* S_SECTION, in the "* Linker *" module */
    uint16_t SectionNumber;
    uint8_t Alignment;
    uint8_t Reserved;
    uint32_t Rva;
    uint32_t Length;
    uint32_t Characteristics;
    /* char Name[]; */
} cv_sectionsym;
_Static_assert(offsetof(cv_sectionsym, Rva) == 4, "S_SECTION Rva");
_Static_assert(sizeof(cv_sectionsym) == 16, "S_SECTION fixed part");

/* Symbol record kinds. */
#define S_UDT 0x1108
#define S_LDATA32 0x110c
#define S_GDATA32 0x110d
#define S_PUB32 0x110e
#define S_LPROC32 0x110f
#define S_GPROC32 0x1110
#define S_PROCREF 0x1125
#define S_LPROCREF 0x1127
#define S_SECTION 0x1136
#define S_LPROC32_ID 0x1146
#define S_GPROC32_ID 0x1147

#pragma pack(pop)

/* Type record leaves (cvinfo.h LEAF_ENUM_e). */
#define LF_VTSHAPE 0x000a
#define LF_MODIFIER 0x1001
#define LF_POINTER 0x1002
#define LF_PROCEDURE 0x1008
#define LF_MFUNCTION 0x1009
#define LF_ARGLIST 0x1201
#define LF_FIELDLIST 0x1203
#define LF_BITFIELD 0x1205
#define LF_METHODLIST 0x1206
#define LF_BCLASS 0x1400
#define LF_VBCLASS 0x1401
#define LF_IVBCLASS 0x1402
#define LF_INDEX 0x1404
#define LF_VFUNCTAB 0x1409
#define LF_FRIENDCLS 0x140b
#define LF_VFUNCOFF 0x140c
#define LF_ENUMERATE 0x1502
#define LF_ARRAY 0x1503
#define LF_CLASS 0x1504
#define LF_STRUCTURE 0x1505
#define LF_UNION 0x1506
#define LF_ENUM 0x1507
#define LF_FRIENDFCN 0x150c
#define LF_MEMBER 0x150d
#define LF_STMEMBER 0x150e
#define LF_METHOD 0x150f
#define LF_NESTTYPE 0x1510
#define LF_ONEMETHOD 0x1511
#define LF_NESTTYPEEX 0x1512
#define LF_MEMBERMODIFY 0x1513
#define LF_INTERFACE 0x1519
#define LF_BINTERFACE 0x151a
#define LF_CLASS2 0x1608
#define LF_STRUCTURE2 0x1609
#define LF_UNION2 0x160a
#define LF_INTERFACE2 0x160b

/* Numeric leaves: a u16 below 0x8000 is the value itself. */
#define LF_NUMERIC 0x8000
#define LF_CHAR 0x8000
#define LF_SHORT 0x8001
#define LF_USHORT 0x8002
#define LF_LONG 0x8003
#define LF_ULONG 0x8004
#define LF_REAL32 0x8005
#define LF_REAL64 0x8006
#define LF_REAL80 0x8007
#define LF_REAL128 0x8008
#define LF_QUADWORD 0x8009
#define LF_UQUADWORD 0x800a
#define LF_REAL48 0x800b
#define LF_COMPLEX32 0x800c
#define LF_COMPLEX64 0x800d
#define LF_COMPLEX80 0x800e
#define LF_COMPLEX128 0x800f
#define LF_VARSTRING 0x8010
#define LF_OCTWORD 0x8017
#define LF_UOCTWORD 0x8018
#define LF_DECIMAL 0x8019
#define LF_DATE 0x801a
#define LF_UTF8STRING 0x801b
#define LF_REAL16 0x801c

/* Class/union/enum property bits. */
#define CV_PROP_FWDREF 0x0080
#define CV_PROP_HASUNIQUENAME 0x0200

/* Type indices below this are simple (primitive) types. */
#define CV_FIRST_NONPRIM 0x1000u

#endif

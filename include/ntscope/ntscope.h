/*
 * ntscope/ntscope.h - the whole public API of libntscope.
 */
#ifndef NTSCOPE_NTSCOPE_H
#define NTSCOPE_NTSCOPE_H

#include "ntscope/status.h"
#include "ntscope/dump.h"
#include "ntscope/vas.h"
#include "ntscope/bugcheck.h"
#include "ntscope/pe.h"
#include "ntscope/types.h"
#include "ntscope/sympath.h"
#include "ntscope/symbols.h"
#include "ntscope/stack.h"
#include "ntscope/kernel.h"
#include "ntscope/process.h"
#include "ntscope/registry.h"
#include "ntscope/memusage.h"
#include "ntscope/vm.h"
#include "ntscope/pool.h"
#include "ntscope/machine.h"
#include "ntscope/heap.h"
#include "ntscope/leak.h"
#include "ntscope/minidump.h"
#include "ntscope/vad.h"
#include "ntscope/procdump.h"

#define NTSCOPE_VERSION "0.1.0"

#endif

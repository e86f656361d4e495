/*
 * ntscope/ntscope.h - the whole public API of libntscope.
 */
#ifndef NTSCOPE_NTSCOPE_H
#define NTSCOPE_NTSCOPE_H

#include "ntscope/status.h"
#include "ntscope/dump.h"
#include "ntscope/vas.h"
#include "ntscope/bugcheck.h"

#define NTSCOPE_VERSION "0.1.0"

#endif

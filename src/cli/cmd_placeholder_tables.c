/* Temporary empty tables while the command families are being written. */
#include "commands.h"

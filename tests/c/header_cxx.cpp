// Compiles memphis.h as C++: the header must be usable from C++ programs.
#include "memphis.h"

static_assert(MEMPHIS_OK == 0, "MEMPHIS_OK is zero");

extern "C++" int memphis_header_cxx_probe()
{
    memphis_produce_opts_t o;
    memphis_produce_opts_init(&o);
    return o.partition_number + (memphis_version() == MEMPHIS_VERSION ? 0 : 1);
}

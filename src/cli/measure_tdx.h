/* measure_tdx.h - `strongbox measure --platform tdx` (src/cli/measure_tdx.c). */
#ifndef SB_CLI_MEASURE_TDX_H
#define SB_CLI_MEASURE_TDX_H

/* argv as given to `strongbox measure` (argv[0] is "measure"); returns the exit status. */
int sb_cli_measure_tdx(int argc, char **argv);

#endif

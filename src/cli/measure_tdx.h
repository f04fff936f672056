/* measure_tdx.h - `strongbox measure --platform tdx` (src/cli/measure_tdx.c). */
#ifndef SB_CLI_MEASURE_TDX_H
#define SB_CLI_MEASURE_TDX_H

/* argv as given to `strongbox measure` (argv[0] is "measure"); returns the exit status. */
/* json: print one JSON object (registers as hex, null where not computed) instead of the table. */
int sb_cli_measure_tdx(int argc, char **argv, int json);

#endif

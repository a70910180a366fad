/* placeholder, replaced by the check implementation */
#include "cli.h"
const struct cli_opt cmd_check_opts[] = { { 0, 0, NULL, NULL, NULL } };
int cmd_check(struct cli_ctx *ctx, int argc, char **argv) { (void) ctx; (void) argc; (void) argv; return 1; }

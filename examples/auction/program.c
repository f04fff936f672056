/* Sealed-bid second-price auction (runs inside the isolate).
 *
 * Each bidder writes its bid, an amount in cents, to /inputs/<bidder>/bid.txt. The result,
 * /outputs/result.json, names the winner (highest bid; ties go to the bidder whose name sorts
 * first) and the price (the second-highest bid; the winner's own bid when it is alone or tied).
 * Losing bids are never revealed, not even to the auctioneer who reads the result.
 *
 * Usage: program.wasm [INPUT_DIR [OUTPUT_DIR]] */
#include "../common/exio.h"

int main(int argc, char **argv)
{
    const char *in = argc > 1 ? argv[1] : "/inputs", *out = argc > 2 ? argv[2] : "/outputs";
    static char bidders[EX_MAX_PARTIES][EX_NAME_MAX];
    int listed = ex_list_parties(in, bidders), n = 0, winner = -1;
    unsigned long long best = 0, second = 0;
    for (int i = 0; i < listed; i++) {
        if (!ex_has_input(in, bidders[i], "bid.txt"))
            continue; /* a bidder who did not bid */
        n++;
        FILE *f = ex_open_input(in, bidders[i], "bid.txt");
        char line[EX_LINE_MAX];
        size_t digits = 0;
        if (ex_read_line(f, line, "bid.txt"))
            digits = strspn(line, "0123456789");
        if (digits == 0 || line[digits] != '\0' || digits > 15)
            ex_die("%s/bid.txt: expected one amount in cents (1 to 15 digits, nothing else)",
                   bidders[i]);
        unsigned long long bid = strtoull(line, NULL, 10);
        fclose(f);
        /* Names are visited in sorted order, so a strict > keeps the first name on a tie (and the
         * tied bid becomes the second price). */
        if (winner < 0 || bid > best) {
            if (winner >= 0)
                second = best;
            best = bid;
            winner = i;
        } else if (bid > second) {
            second = bid;
        }
    }
    if (winner < 0)
        ex_die("no bids");
    FILE *f = ex_open_output(out, "result.json");
    fprintf(f, "{\"bids\": %d, \"winner\": \"%s\", \"price_cents\": %llu}\n", n, bidders[winner],
            n == 1 ? best : second);
    if (fclose(f) != 0)
        ex_die("cannot write result.json");
    return 0;
}

/*
 * The plain-C reference of `burnrate bench sim --case a-poisson`, the yardstick the simulation
 * issue names ("a plain C program: binary heap, xoshiro256**, Box-Muller"). It runs the same
 * model with no ledger at all, so that the Swift figure can be read against it on the same
 * machine at the same moment (this VM's speed drifts by ±15% over an hour):
 *
 *   10 identities, one pool each, Poisson arrivals at 3,600/h per identity, 480 h; model mix
 *   30% premium / 70% mini; input tokens lognormal(median 1,000, sigma 1.0), output tokens
 *   lognormal(median 250, sigma 0.9), rounded; cost = ceil((in × p_in + out × p_out) / 10^6)
 *   micro-credits (the prices of the bench's table); a hard stop: a draw larger than the pool's
 *   balance is refused. A sample event every hour.
 *
 * Build and run (`make bench-reference` does both):
 *   cc -O2 -o .build/reference-a bench/reference-a.c -lm && .build/reference-a [hours]
 * Prints one line: events, seconds, million events per second.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* xoshiro256** (Blackman & Vigna 2018), seeded by SplitMix64. */
typedef struct { uint64_t s[4]; } rng_t;

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t next_u64(rng_t *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static inline double uniform(rng_t *r) { return (next_u64(r) >> 11) * 0x1.0p-53; }

static void seed(rng_t *r, uint64_t x) {
    for (int i = 0; i < 4; i++) {
        uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        r->s[i] = z ^ (z >> 31);
    }
}

/* Box-Muller, both values used. */
typedef struct { rng_t rng; int has; double spare; } stream_t;

static inline double normal(stream_t *s) {
    if (s->has) { s->has = 0; return s->spare; }
    double u1 = 1.0 - uniform(&s->rng), u2 = uniform(&s->rng);
    double rad = sqrt(-2.0 * log(u1)), th = 2.0 * M_PI * u2;
    s->spare = rad * sin(th); s->has = 1;
    return rad * cos(th);
}

typedef struct { int64_t t; uint64_t seq; int32_t kind; int32_t index; } event_t;

static inline int before(const event_t *a, const event_t *b) {
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

typedef struct { event_t *h; int n, cap; uint64_t seq; } heap_t;

static void push(heap_t *q, int64_t t, int kind, int index) {
    if (q->n == q->cap) { q->cap = q->cap ? 2 * q->cap : 16; q->h = realloc(q->h, q->cap * sizeof(event_t)); }
    event_t e = { t, ++q->seq, kind, index };
    int i = q->n++;
    while (i > 0) { int p = (i - 1) / 2; if (!before(&e, &q->h[p])) break; q->h[i] = q->h[p]; i = p; }
    q->h[i] = e;
}

static event_t pop(heap_t *q) {
    event_t top = q->h[0], last = q->h[--q->n];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= q->n) break;
        if (c + 1 < q->n && before(&q->h[c + 1], &q->h[c])) c++;
        if (!before(&q->h[c], &last)) break;
        q->h[i] = q->h[c]; i = c;
    }
    if (q->n > 0) q->h[i] = last;
    return top;
}

int main(int argc, char **argv) {
    const int W = 10;
    const int64_t hours = argc > 1 ? atoll(argv[1]) : 480;
    const int64_t horizon = hours * 3600000LL;
    const double rate_per_ms = 3600.0 / 3600000.0;
    const double mu_in = log(1000.0), sigma_in = 1.0, mu_out = log(250.0), sigma_out = 0.9;
    const int64_t price_in[2] = { 2500000, 150000 }, price_out[2] = { 10000000, 600000 };

    stream_t arrivals[10], tokens[10], mix[10];
    int64_t balance[10], spent[10], served[10], refused[10];
    heap_t q = { 0 };
    for (int w = 0; w < W; w++) {
        seed(&arrivals[w].rng, 1000 + w); arrivals[w].has = 0;
        seed(&tokens[w].rng, 2000 + w); tokens[w].has = 0;
        seed(&mix[w].rng, 3000 + w); mix[w].has = 0;
        balance[w] = (int64_t)1 << 50; spent[w] = served[w] = refused[w] = 0;
        push(&q, (int64_t)(-log(1.0 - uniform(&arrivals[w].rng)) / rate_per_ms), 0, w);
    }
    push(&q, 0, 1, 0);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int64_t events = 0, samples = 0;
    while (q.n > 0 && q.h[0].t < horizon) {
        event_t e = pop(&q);
        events++;
        if (e.kind == 1) {
            samples++;
            if (e.t + 3600000 < horizon) push(&q, e.t + 3600000, 1, 0);
            continue;
        }
        int w = e.index;
        double gap = -log(1.0 - uniform(&arrivals[w].rng)) / rate_per_ms;
        int64_t next = (int64_t)((double)e.t + gap);
        if (next < horizon) push(&q, next, 0, w);
        int m = uniform(&mix[w].rng) < 0.3 ? 0 : 1;
        int64_t in = llround(exp(mu_in + sigma_in * normal(&tokens[w])));
        int64_t out = llround(exp(mu_out + sigma_out * normal(&tokens[w])));
        int64_t exact = in * price_in[m] + out * price_out[m];
        int64_t cost = (exact + 999999) / 1000000;
        if (cost > balance[w]) { refused[w]++; continue; }
        balance[w] -= cost; spent[w] += cost; served[w]++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    int64_t total_spent = 0, total_served = 0;
    for (int w = 0; w < W; w++) { total_spent += spent[w]; total_served += served[w]; }
    printf("reference-a  events %lld  served %lld  spent %lld  seconds %.3f  %.2f M events/s\n",
           (long long)events, (long long)total_served, (long long)total_spent, seconds, events / seconds / 1e6);
    free(q.h);
    return 0;
}

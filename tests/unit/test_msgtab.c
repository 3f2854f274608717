/* msgtab: add/find (by message, payload, key, creation span id), the end
 * rules (destroyed AND released, whichever comes last), owners, clients,
 * stale references, baggage copies and the capacity limit. */
#include <stdlib.h>
#include <string.h>

#include "agent/config.h"
#include "agent/msgtab.h"
#include "tap.h"

static struct kotel_ctx ctx_of(uint8_t seed)
{
        struct kotel_ctx c;

        memset(&c, 0, sizeof(c));
        memset(c.trace_id, seed, 16);
        memset(c.span_id, seed + 1, 8);
        c.flags = KOTEL_FLAG_SAMPLED;
        c.valid = true;
        return c;
}

static struct kotel_live_ref add(const void *rkm, const void *payload,
                                 const void *key, const void *rk,
                                 const void *owner, bool released,
                                 const struct kotel_ctx *creation,
                                 const struct kotel_ctx *ctx, const char *bg)
{
        struct kotel_live_msg m = {
            .rkm      = rkm,
            .payload  = payload,
            .key      = key,
            .rk       = rk,
            .owner    = owner,
            .creation = creation,
            .ctx      = ctx,
            .baggage  = bg,
            .span     = NULL,
            .released = released,
        };

        return kotel_msgtab_add(&m, NULL);
}

int main(void)
{
        char rkm[4], payload[4], key[4], rk1, rk2, ev;
        struct kotel_ctx creation = ctx_of(0x10), ctx = ctx_of(0x20), out;
        struct kotel_live_ref ref, ref2;
        char *bg = NULL;

        setenv("OTEL_TRACES_EXPORTER", "none", 1);
        setenv("OTEL_LOG_LEVEL", "none", 1);
        kotel_cfg.live_max = 16;

        CHECK(!kotel_msgtab_find(&rkm[0], &out, NULL),
              "empty table finds nothing");
        ref = add(&rkm[0], payload, key, &rk1, NULL, false, &creation, &ctx,
                  "k=v");
        CHECK(ref.idx != 0 && kotel_msgtab_count() == 1, "add");
        CHECK(kotel_msgtab_find(&rkm[0], &out, &bg) &&
                  !memcmp(out.span_id, ctx.span_id, 8) &&
                  !memcmp(out.trace_id, ctx.trace_id, 16) && out.valid,
              "found by message pointer, with the process context");
        CHECK(bg && !strcmp(bg, "k=v"), "with a copy of its baggage");
        free(bg);
        CHECK(kotel_msgtab_find(payload, &out, NULL), "found by payload");
        CHECK(kotel_msgtab_find(key, &out, NULL), "found by key");
        CHECK(kotel_msgtab_find_creation(creation.span_id, &out, &bg) &&
                  !memcmp(out.span_id, ctx.span_id, 8) && bg,
              "found by creation span id");
        free(bg);
        CHECK(!kotel_msgtab_find_creation(ctx.span_id, &out, NULL),
              "not by its own span id");

        /* Destroyed first: the pointers die, the entry lives until the
         * thread moves on. */
        kotel_msgtab_destroyed(&rkm[0]);
        CHECK(kotel_msgtab_count() == 1,
              "destroyed but not released: still live");
        CHECK(!kotel_msgtab_find(&rkm[0], &out, NULL) &&
                  !kotel_msgtab_find(payload, &out, NULL),
              "its pointers are forgotten at destroy");
        kotel_msgtab_release(ref);
        CHECK(kotel_msgtab_count() == 0, "released after destroy: ended");
        kotel_msgtab_release(ref);
        CHECK(kotel_msgtab_count() == 0, "a second release is harmless");

        /* Released first (the consuming thread moved on): ends at destroy. */
        ref = add(&rkm[1], payload, NULL, &rk1, NULL, false, NULL, &ctx, NULL);
        kotel_msgtab_release(ref);
        CHECK(kotel_msgtab_count() == 1 &&
                  kotel_msgtab_find(payload, &out, NULL),
              "released but not destroyed: still live and findable");
        kotel_msgtab_destroyed(&rkm[1]);
        CHECK(kotel_msgtab_count() == 0, "destroyed after release: ended");

        /* A stale reference to a reused slot does nothing. */
        ref2 = add(&rkm[2], NULL, NULL, &rk1, NULL, false, NULL, &ctx, NULL);
        CHECK(ref2.idx == ref.idx && ref2.gen != ref.gen,
              "slot reused, new generation");
        kotel_msgtab_destroyed_ref(ref);
        kotel_msgtab_release(ref);
        CHECK(kotel_msgtab_count() == 1, "stale reference ignored");
        kotel_msgtab_destroyed_ref(ref2);
        CHECK(kotel_msgtab_count() == 1, "destroyed_ref alone keeps it");
        kotel_msgtab_release(ref2);
        CHECK(kotel_msgtab_count() == 0, "destroyed_ref + release ends it");

        /* The end of one message settled with the next one's add, under
         * one lock; a stale end is ignored there too. */
        {
                struct kotel_live_msg m = {
                    .rkm = &rkm[0], .rk = &rk1, .ctx = &ctx};
                struct kotel_live_end end;
                uint64_t locks;

                ref   = add(&rkm[1], NULL, NULL, &rk1, NULL, false, NULL, &ctx,
                            NULL);
                end   = (struct kotel_live_end){ref, true, 1};
                locks = kotel_msgtab_locks();
                ref2  = kotel_msgtab_add(&m, &end);
                CHECK(kotel_msgtab_locks() - locks == 1 &&
                          kotel_msgtab_count() == 1 &&
                          !kotel_msgtab_find(&rkm[1], &out, NULL) &&
                          kotel_msgtab_find(&rkm[0], &out, NULL),
                      "add settles the previous message under the same lock");
                ref = add(&rkm[1], NULL, NULL, &rk1, NULL, false, NULL, &ctx,
                          NULL);
                kotel_msgtab_end(&end); /* stale: its entry is gone */
                CHECK(kotel_msgtab_count() == 2, "a stale end is ignored");
                end = (struct kotel_live_end){ref2, false, 0};
                kotel_msgtab_end(&end);
                CHECK(kotel_msgtab_count() == 2,
                      "an end without destroy keeps a live message");
                kotel_msgtab_destroyed(&rkm[0]);
                end = (struct kotel_live_end){ref, true, 0};
                kotel_msgtab_end(&end);
                CHECK(kotel_msgtab_count() == 0, "end with destroy ends it");
        }

        /* The current message destroyed without the lock: its pointers
         * stop finding it at once (their addresses may be reused), its
         * creation span id still does, and the move-on's end, as
         * destroyed, retires it; a stale reference marks nothing. */
        {
                struct kotel_live_end end;
                uint64_t locks;

                ref   = add(&rkm[0], payload, key, &rk1, NULL, false,
                            &creation, &ctx, NULL);
                locks = kotel_msgtab_locks();
                kotel_msgtab_ptrs_dead(ref);
                CHECK(kotel_msgtab_locks() == locks,
                      "ptrs_dead takes no lock");
                CHECK(!kotel_msgtab_find(&rkm[0], &out, NULL) &&
                          !kotel_msgtab_find(payload, &out, NULL) &&
                          !kotel_msgtab_find(key, &out, NULL),
                      "a destroyed current message is not found by pointer");
                CHECK(kotel_msgtab_find_creation(creation.span_id, &out,
                                                 NULL) &&
                          !memcmp(out.span_id, ctx.span_id, 8),
                      "but still by its creation span id");
                ref2 = add(&rkm[1], payload, NULL, &rk1, NULL, false, NULL,
                           &ctx, NULL);
                CHECK(kotel_msgtab_find(payload, &out, NULL),
                      "a new message at a reused address is found");
                kotel_msgtab_destroyed_ref(ref2);
                kotel_msgtab_release(ref2);
                end = (struct kotel_live_end){ref, true, 0};
                kotel_msgtab_end(&end);
                CHECK(kotel_msgtab_count() == 0,
                      "the move-on's end as destroyed retires it");
                kotel_msgtab_ptrs_dead(ref); /* stale */
                ref = add(&rkm[0], payload, NULL, &rk1, NULL, false, NULL,
                          &ctx, NULL);
                CHECK(kotel_msgtab_find(payload, &out, NULL),
                      "a stale ptrs_dead marks nothing");
                kotel_msgtab_destroyed_ref(ref);
                kotel_msgtab_release(ref);
        }

        /* Batch rule: added released, ends at destroy. */
        add(&rkm[3], NULL, NULL, &rk1, NULL, true, NULL, &ctx, NULL);
        kotel_msgtab_destroyed(payload); /* not its rkm: no effect */
        CHECK(kotel_msgtab_count() == 1, "destroy of another pointer ignored");
        kotel_msgtab_destroyed(&rkm[3]);
        CHECK(kotel_msgtab_count() == 0, "batch message ends at destroy");

        /* Event owners and clients. */
        add(&rkm[0], NULL, NULL, &rk1, &ev, true, NULL, &ctx, NULL);
        add(&rkm[1], NULL, NULL, &rk1, &ev, false, NULL, &ctx, NULL);
        add(&rkm[2], NULL, NULL, &rk2, NULL, false, NULL, &ctx, NULL);
        add(&rkm[3], NULL, NULL, &rk1, NULL, false, NULL, &ctx, NULL);
        kotel_msgtab_destroy_owner(&ev);
        CHECK(kotel_msgtab_count() == 2,
              "event destroy ends its messages only");
        kotel_msgtab_end_client(&rk2);
        CHECK(kotel_msgtab_count() == 1 &&
                  kotel_msgtab_find(&rkm[3], &out, NULL),
              "end_client ends that client's messages only");
        kotel_msgtab_end_client(NULL);
        CHECK(kotel_msgtab_count() == 0, "end_client(NULL) ends all");

        /* Capacity: KOTEL_MAX_LIVE_MESSAGES entries, then refused. */
        {
                static char many[17];
                int ok = 1;

                for (int i = 0; i < 16; i++)
                        ok &= add(&many[i], NULL, NULL, &rk1, NULL, false, NULL,
                                  &ctx, NULL)
                                  .idx != 0;
                ref = add(&many[16], NULL, NULL, &rk1, NULL, false, NULL, &ctx,
                          NULL);
                CHECK(ok && ref.idx == 0 && kotel_msgtab_count() == 16,
                      "full table refuses the 17th");
                CHECK(!kotel_msgtab_find(&many[16], &out, NULL),
                      "refused one not findable");
                kotel_msgtab_end_client(&rk1);
                CHECK(kotel_msgtab_count() == 0, "emptied");
        }
        TAP_DONE();
}

// Plans: kernel calls recorded once (mamba4j_plan_begin .. mamba4j_plan_end) and run again
// with one call (mamba4j_plan_run). A recorded call is the public entry point it came
// through and a copy of its args struct, so running a plan makes exactly the calls the
// caller made, each checked again.
#include "../common.h"

#include <memory>
#include <vector>

struct mamba4j_plan {
    struct Call {
        mamba4j::ErasedEntry entry;
        std::unique_ptr<uint64_t[]> args;  // the args struct, 8-byte aligned
    };
    mamba4j_backend backend;
    std::vector<Call> calls;
};

namespace mamba4j {

void record(mamba4j_context* ctx, ErasedEntry entry, const void* args, size_t bytes) {
    std::unique_ptr<uint64_t[]> copy(new uint64_t[(bytes + 7) / 8]);
    std::memcpy(copy.get(), args, bytes);
    ctx->recording->calls.push_back({entry, std::move(copy)});
}

}  // namespace mamba4j

using namespace mamba4j;

extern "C" mamba4j_status mamba4j_plan_begin(mamba4j_context* ctx) {
    return guarded("mamba4j_plan_begin", [&] {
        require_context(ctx);
        if (ctx->recording) fail(MAMBA4J_ERR_INVALID_ARGUMENT, "this context is already recording a plan");
        ctx->recording = new mamba4j_plan{ctx->backend, {}};
    });
}

extern "C" mamba4j_status mamba4j_plan_end(mamba4j_context* ctx, mamba4j_plan** out) {
    return guarded("mamba4j_plan_end", [&] {
        require_context(ctx);
        require_ptr(out, "out");
        if (!ctx->recording) fail(MAMBA4J_ERR_INVALID_ARGUMENT, "this context is not recording a plan");
        *out = ctx->recording;
        ctx->recording = nullptr;
    });
}

extern "C" mamba4j_status mamba4j_plan_run(mamba4j_context* ctx, const mamba4j_plan* plan) {
    return guarded("mamba4j_plan_run", [&] {
        require_context(ctx);
        require_ptr(plan, "plan");
        if (plan->backend != ctx->backend)
            fail(MAMBA4J_ERR_INVALID_ARGUMENT, "the plan was recorded on another backend than this context's");
        const size_t n = plan->calls.size();
        for (size_t i = 0; i < n; i++) {
            const mamba4j_plan::Call& c = plan->calls[i];
            const mamba4j_status status = c.entry(ctx, c.args.get());
            if (status != MAMBA4J_OK)  // its message, e.g. "mamba4j_attention: start_pos[0] ...", after the call's place
                fail(status, "call %zu of %zu: %s", i + 1, n, mamba4j_last_error());
        }
    });
}

extern "C" mamba4j_status mamba4j_plan_size(const mamba4j_plan* plan, int64_t* calls) {
    return guarded("mamba4j_plan_size", [&] {
        require_ptr(plan, "plan");
        require_ptr(calls, "calls");
        *calls = int64_t(plan->calls.size());
    });
}

extern "C" mamba4j_status mamba4j_plan_destroy(mamba4j_plan* plan) {
    return guarded("mamba4j_plan_destroy", [&] { delete plan; });
}

// Checks shared by the entry points that address recurrent states by slot (conv1d,
// selective_scan, ssd): state_slots [B] must hold distinct, non-negative slot indices.
// The number of slots is not part of the ABI, so an index past the end of the state
// tensor cannot be detected here; the caller owns that bound.
#pragma once
#include "../common.h"

#include <algorithm>
#include <vector>

namespace mamba4j {

inline void require_state_slots(const int32_t* slots, int64_t batch) {
    if (slots == nullptr) return;
    for (int64_t b = 0; b < batch; b++)
        if (slots[b] < 0)
            fail(MAMBA4J_ERR_INVALID_ARGUMENT, "state_slots[%lld] = %d is negative", (long long)b, slots[b]);
    auto twice = [](int32_t slot) {
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "state_slots holds slot %d twice (rows would race on one state)", slot);
    };
    if (batch <= 64) {  // a decode step's few rows: pairwise, no allocation on the per-token path
        for (int64_t b = 1; b < batch; b++)
            for (int64_t c = 0; c < b; c++)
                if (slots[b] == slots[c]) twice(slots[b]);
        return;
    }
    std::vector<int32_t> sorted(slots, slots + batch);
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 1; i < sorted.size(); i++)
        if (sorted[i] == sorted[i - 1]) twice(sorted[i]);
}

// Extent in elements of the state tensor [slots, per_slot] that the call touches.
inline int64_t state_extent(const int32_t* slots, int64_t batch, int64_t per_slot, const char* what) {
    int64_t max_slot = batch - 1;
    if (slots != nullptr)
        for (int64_t b = 0; b < batch; b++) max_slot = std::max<int64_t>(max_slot, slots[b]);
    return checked_mul(max_slot + 1, per_slot, what);
}

}  // namespace mamba4j

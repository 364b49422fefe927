// Embedding gather: every table dtype to every out dtype against the conversion done
// here element by element (exact: a gather only converts), padded out stride, guard
// bytes; ids out of range name the position and the id, and write nothing.
#include "harness.h"

using namespace harness;

// f16 <-> f32 for values inside the normal f16 range (1e-3 <= |v| < 8: no subnormals)
static uint16_t f16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000u, exp = (u >> 23) & 0xff, man = u & 0x7fffffu;
    if (exp < 103) return uint16_t(sign);
    uint32_t h = sign | ((exp - 112) << 10) | (man >> 13);
    uint32_t rest = man & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;
    return uint16_t(h);
}
static float hf(uint16_t h) {
    uint32_t sign = uint32_t(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ffu;
    uint32_t u = exp == 0 ? sign : sign | ((exp + 112) << 23) | (man << 13);
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

static void run_case(mamba4j_dtype tdt, mamba4j_dtype odt, int64_t count, int64_t vocab, int64_t dim, int64_t pad) {
    auto t32 = uniform(size_t(vocab * dim), -4.0f, 4.0f);
    for (auto& v : t32)  // keep clear of the f16 subnormals the helpers here do not handle
        if (std::fabs(v) < 1e-3f) v = v < 0 ? -1e-3f : 1e-3f;
    std::vector<uint16_t> t16(t32.size());
    for (size_t i = 0; i < t32.size(); i++) {
        if (tdt == MAMBA4J_BF16) t16[i] = to_bf16(t32[i]), t32[i] = from_bf16(t16[i]);
        if (tdt == MAMBA4J_F16) t16[i] = f16(t32[i]), t32[i] = hf(t16[i]);
    }
    std::vector<int32_t> ids(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; i++) ids[size_t(i)] = int32_t((i * 7919 + 13) % vocab);
    ids[0] = int32_t(vocab - 1);
    const int64_t s = dim + pad;
    const size_t osize = odt == MAMBA4J_F32 ? 4 : 2;
    const size_t guard = 64, bytes = size_t(count * s) * osize;
    std::vector<uint8_t> out(bytes + 2 * guard, 0xa5);
    mamba4j_embedding_args a{};
    a.count = count;
    a.vocab = vocab;
    a.dim = dim;
    a.table_dtype = tdt;
    a.out_dtype = odt;
    a.ids = ids.data();
    a.table = tdt == MAMBA4J_F32 ? static_cast<const void*>(t32.data()) : t16.data();
    a.out = out.data() + guard;
    a.out_stride = s;
    expect_ok(mamba4j_embedding(cpu_context(), &a), "embedding");
    Guarded got(size_t(count * dim));
    std::vector<float> want(size_t(count * dim));
    bool pad_ok = true;
    for (int64_t i = 0; i < count; i++)
        for (int64_t j = 0; j < s; j++) {
            const uint8_t* p = out.data() + guard + size_t(i * s + j) * osize;
            if (j >= dim) {
                for (size_t b = 0; b < osize; b++) pad_ok &= p[b] == 0xa5;
                continue;
            }
            float v;
            uint16_t h;
            if (odt == MAMBA4J_F32) std::memcpy(&v, p, 4);
            else std::memcpy(&h, p, 2), v = odt == MAMBA4J_BF16 ? from_bf16(h) : hf(h);
            float e = t32[size_t(ids[size_t(i)] * dim + j)];
            if (odt == MAMBA4J_BF16) e = from_bf16(to_bf16(e));
            if (odt == MAMBA4J_F16) e = hf(f16(e));
            got[size_t(i * dim + j)] = v;
            want[size_t(i * dim + j)] = e;
        }
    for (size_t b = 0; b < guard; b++) pad_ok &= out[b] == 0xa5 && out[guard + bytes + b] == 0xa5;
    std::string shape = shape_str({{"table", tdt}, {"out", odt}, {"count", count}, {"vocab", vocab}, {"dim", dim},
                                   {"pad", pad}});
    expect(pad_ok, "embedding [" + shape + "]: guard or padding bytes written");
    expect_close("embedding", shape, got, want, 0.0);  // exact
}

int main() {
    for (mamba4j_dtype tdt : {MAMBA4J_F32, MAMBA4J_BF16, MAMBA4J_F16})
        for (mamba4j_dtype odt : {MAMBA4J_F32, MAMBA4J_BF16, MAMBA4J_F16}) {
            run_case(tdt, odt, 1, 50, 7, 0);
            run_case(tdt, odt, 17, 1000, 768, 5);
        }
    run_case(MAMBA4J_BF16, MAMBA4J_F32, 512, 50280, 768, 0);  // a prompt: both threads
    run_case(MAMBA4J_F32, MAMBA4J_F32, 300, 4001, 1024, 0);

    // ids out of range: an error naming the position and the id; nothing written
    std::vector<float> table(10 * 4, 1.0f), out(3 * 4, -7.0f);
    int32_t ids[3] = {2, 9, 10};
    mamba4j_embedding_args a{};
    a.count = 3;
    a.vocab = 10;
    a.dim = 4;
    a.ids = ids;
    a.table = table.data();
    a.out = out.data();
    a.out_stride = 4;
    expect_error(mamba4j_embedding(cpu_context(), &a), MAMBA4J_ERR_INVALID_ARGUMENT,
                 "ids[2] = 10 is outside the vocabulary [0, 10)", "id == vocab");
    bool untouched = true;
    for (float v : out) untouched &= v == -7.0f;
    expect(untouched, "embedding: nothing written when an id is out of range");
    ids[2] = -1;
    expect_error(mamba4j_embedding(cpu_context(), &a), MAMBA4J_ERR_INVALID_ARGUMENT, "ids[2] = -1", "negative id");
    ids[2] = 0;
    expect_ok(mamba4j_embedding(cpu_context(), &a), "valid ids");
    mamba4j_embedding_args bad = a;
    bad.ids = nullptr;
    expect_error(mamba4j_embedding(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "ids is a null pointer", "null ids");
    bad = a;
    bad.out_stride = 3;
    expect_error(mamba4j_embedding(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "out_stride", "out stride");
    bad = a;
    bad.table_dtype = 5;
    expect_error(mamba4j_embedding(cpu_context(), &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "unknown dtype", "dtype 5");
    return finish();
}

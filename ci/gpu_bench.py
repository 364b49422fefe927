#!/usr/bin/env python3
"""Peer timings and ceilings for the CUDA kernel benchmarks (run by ci/gpu-test.sh).

  gpu_bench.py peers [ONLY]     ceilings (device copy, bf16 matmul) and peer kernels at the
                                DESIGN.md §6 8B-layer shapes; prints CEIL / PEER / ACC lines.
                                ONLY = attention | matmul | sample: the ceilings and those
                                peers alone; ssd: stop after the SSD chunked prefill peers
  gpu_bench.py table OURS PEERS combines gpu_test_kernels --bench output (BENCH lines) with
                                the peers' output into a markdown table

Peers: mamba_ssm's Triton kernels (mamba_chunk_scan_combined, selective_state_update,
rmsnorm_fn from layernorm_gated) imported module by module (PYTHONPATH holds a copy of the
mamba_ssm Python package, without its CUDA extensions), PyTorch's depthwise conv1d, a
PyTorch loop for the Mamba-1 scan, and F.linear for the matmuls (bf16: cuBLAS / cuBLASLt).
Timing as in gpu_test_kernels: CUDA events around each call after warm-up, median of many.
"""
import math
import sys


def median_ms(fn, warmup=5, reps=30):
    import torch
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e))
    times.sort()
    return times[len(times) // 2]


def ssd_reference_f64(x, dt, A, B, C, D, z, dt_bias, state):
    """y and final state of SSD by the token recurrence, fp64 (the math of mamba4j.h)."""
    import torch
    import torch.nn.functional as F
    x, dt, B, C = x.double(), dt.double(), B.double(), C.double()
    b, L, H, P = x.shape
    G = B.shape[2]
    Bh = B.repeat_interleave(H // G, dim=2)
    Ch = C.repeat_interleave(H // G, dim=2)
    d = F.softplus(dt + dt_bias.double())
    a = torch.exp(d * A.double())
    S = state.double().clone()
    ys = []
    for t in range(L):
        S = a[:, t, :, None, None] * S + (d[:, t, :, None, None] * x[:, t, :, :, None]) * Bh[:, t, :, None, :]
        ys.append(torch.einsum("bhpn,bhn->bhp", S, Ch[:, t]))
    y = torch.stack(ys, 1) + D.double()[None, None, :, None] * x
    if z is not None:
        y = y * F.silu(z.double())
    return y, S


def nmse(a, b):
    a, b = a.double(), b.double()
    if not bool(torch_isfinite_all(a)):
        return float("inf")
    return float(((a - b) ** 2).sum() / (b ** 2).sum())


def torch_isfinite_all(t):
    import torch
    return torch.isfinite(t).all()


def ceilings(torch, dev):
    # ---- ceilings
    n = 1 << 29  # 1 GiB of fp16... as bytes: 2^29 * 2
    a = torch.empty(n, dtype=torch.float16, device=dev).normal_()
    b = torch.empty_like(a)
    ms = median_ms(lambda: b.copy_(a), 3, 20)
    copy_gbps = 2 * a.numel() * 2 / (ms * 1e-3) / 1e9
    del a, b
    m = torch.randn(8192, 8192, device=dev, dtype=torch.bfloat16)
    m2 = torch.randn(8192, 8192, device=dev, dtype=torch.bfloat16)
    ms = median_ms(lambda: m @ m2, 3, 20)
    tflops = 2 * 8192 ** 3 / (ms * 1e-3) / 1e12
    del m, m2
    print(f"CEIL copy_GBps={copy_gbps:.1f} bf16_matmul_TFLOPs={tflops:.1f}", flush=True)


def sample_peers(torch, dev):
    # ---- sampling: the rows of gpu_test_kernels --bench sample (V 128256 bf16 logits ~ N(0, 3²),
    # B 1 and 64); greedy is torch.argmax, the others the usual HF-style path in one call:
    # logits / T, top-k (torch.topk mask), top-p (sort, softmax, cumsum mask), min-p
    # (softmax mask), softmax, torch.multinomial
    def hf_sample(x, T, k, p, min_p):
        x = x.float() / T
        if k > 0:
            kth = torch.topk(x, k, dim=-1).values[..., -1:]
            x = x.masked_fill(x < kth, -math.inf)
        if p < 1:
            xs, idx = torch.sort(x, dim=-1, descending=True)
            ps = xs.softmax(-1)
            drop = ps.cumsum(-1) - ps >= p  # keep the smallest prefix reaching p
            x = x.masked_fill(drop.scatter(-1, idx, drop), -math.inf)
        if min_p > 0:
            probs = x.softmax(-1)
            x = x.masked_fill(probs < min_p * probs.amax(-1, keepdim=True), -math.inf)
        return torch.multinomial(x.softmax(-1), 1)
    for B in (1, 64):
        x = (torch.randn(B, 128256, device=dev) * 3).to(torch.bfloat16)
        f = lambda: torch.argmax(x, dim=-1)
        print(f"PEER sample_B{B}_V128256_greedy ms={median_ms(f, 20, 200):.5f} peer=torch.argmax", flush=True)
        for name, T, k, p, mp in [("temperature", 0.8, 0, 1.0, 0.0), ("topk40", 0.8, 40, 1.0, 0.0),
                                  ("topp0.9", 0.8, 0, 0.9, 0.0), ("topk40_topp0.9_minp0.05", 0.7, 40, 0.9, 0.05)]:
            f = lambda: hf_sample(x, T, k, p, mp)
            print(f"PEER sample_B{B}_V128256_{name} ms={median_ms(f, 20, 200):.5f} peer=torch_hf_sampling", flush=True)


def matmul_peers(torch, F, dev):
    # ---- matmul (here, before the mamba_ssm imports: it needs only torch): F.linear (PyTorch's
    # cuBLAS / cuBLASLt path), bf16, the 8B projections of gpu_test_kernels --bench; the "_f32x"
    # rows (fp32 activations, bf16 W) are peered by F.linear on x converted to bf16 in the call,
    # as autocast would run it
    bf = torch.bfloat16
    for name, n, k in [("mamba_in_proj", 18560, 4096), ("mamba_out_proj", 4096, 8192), ("mlp_up", 14336, 4096),
                       ("mlp_down", 4096, 14336), ("attn_qkv", 6144, 4096), ("lm_head", 256000, 4096)]:
        w = (torch.rand(n, k, device=dev) * 0.04 - 0.02).to(bf)
        for m in (4096, 1):
            if name == "lm_head" and m != 1:
                continue
            x = torch.rand(m, k, device=dev, dtype=bf) * 2 - 1
            f = lambda: F.linear(x, w)
            reps = (20, 200) if m == 1 else (5, 30)
            print(f"PEER matmul_{name}_m{m} ms={median_ms(f, *reps):.5f} peer=F.linear_bf16", flush=True)
            if m == 1:
                x32 = x.float()
                f = lambda: F.linear(x32.to(bf), w)
                print(f"PEER matmul_{name}_m1_f32x ms={median_ms(f, *reps):.5f} peer=F.linear_bf16(x.bfloat16())",
                      flush=True)
        del w
    # accuracy of the peer at bf16 against fp64 (compare gpu_test_kernels' matmul thresholds)
    x = torch.randn(17, 515, device=dev).to(bf)
    w = (torch.randn(1027, 515, device=dev) / math.sqrt(515)).to(bf)
    ref = x.double() @ w.double().T
    print(f"ACC F.linear_bf16 m=17 n=1027 k=515 nmse={nmse(F.linear(x, w), ref):.3g} "
          f"bf16_output_rounding_nmse={nmse(ref.to(bf), ref):.3g}", flush=True)


def attention_peers(torch, F, dev):
    # ---- attention: PyTorch SDPA (its default backend), GQA 32/8 × 128, bf16
    Hq, Hkv, Dh = 32, 8, 128
    for L in (4096, 16384):
        q = torch.randn(1, Hq, L, Dh, device=dev, dtype=torch.bfloat16)
        k = torch.randn(1, Hkv, L, Dh, device=dev, dtype=torch.bfloat16)
        v = torch.randn(1, Hkv, L, Dh, device=dev, dtype=torch.bfloat16)
        f = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        print(f"PEER attention_prefill_L{L} ms={median_ms(f, 3, 20):.5f} peer=torch_sdpa", flush=True)
        if L == 4096:
            qs, ks, vs = q[:, :, :512].double(), k[:, :, :512].double(), v[:, :, :512].double()
            ref = F.scaled_dot_product_attention(qs, ks.repeat_interleave(4, 1), vs.repeat_interleave(4, 1), is_causal=True)
            got = F.scaled_dot_product_attention(q[:, :, :512], k[:, :, :512], v[:, :, :512], is_causal=True, enable_gqa=True)
            print(f"ACC torch_sdpa_bf16 L=512 GQA 32/8x128 causal out_nmse={nmse(got, ref):.3g} "
                  f"bf16_output_rounding_nmse={nmse(ref.to(torch.bfloat16), ref):.3g}", flush=True)
        del q, k, v
    for Bsz in (1, 16):
        for KV in (4096, 32768, 131072):
            q = torch.randn(Bsz, Hq, 1, Dh, device=dev, dtype=torch.bfloat16)
            k = torch.rand(Bsz, Hkv, KV + 1, Dh, device=dev, dtype=torch.bfloat16) * 2 - 1
            v = torch.rand(Bsz, Hkv, KV + 1, Dh, device=dev, dtype=torch.bfloat16) * 2 - 1
            f = lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
            print(f"PEER attention_decode_B{Bsz}_KV{KV} ms={median_ms(f, 10, 50):.5f} peer=torch_sdpa", flush=True)
            del q, k, v
    # the backends SDPA can choose from, prefill L 4096 (INFO: FlashAttention-2 is the
    # mma.sync peer; the default pick on an H100 may be cuDNN's)
    from torch.nn.attention import SDPBackend, sdpa_kernel
    q = torch.randn(1, Hq, 4096, Dh, device=dev, dtype=torch.bfloat16)
    k = torch.randn(1, Hkv, 4096, Dh, device=dev, dtype=torch.bfloat16)
    v = torch.randn(1, Hkv, 4096, Dh, device=dev, dtype=torch.bfloat16)
    for name in ("FLASH_ATTENTION", "CUDNN_ATTENTION", "EFFICIENT_ATTENTION"):
        try:
            with sdpa_kernel(getattr(SDPBackend, name)):
                f = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
                print(f"INFO sdpa_backend={name} attention_prefill_L4096 ms={median_ms(f, 3, 20):.5f}", flush=True)
        except Exception as e:  # backend not available for this shape
            print(f"INFO sdpa_backend={name} unavailable: {str(e).splitlines()[0][:120]}", flush=True)
    del q, k, v


def peers(only=None):
    import torch
    import torch.nn.functional as F
    dev = "cuda"
    torch.manual_seed(0)
    print(f"INFO device={torch.cuda.get_device_name(0)} torch={torch.__version__}", flush=True)

    ceilings(torch, dev)
    if only == "sample":
        sample_peers(torch, dev)
        return
    if only == "attention":
        attention_peers(torch, F, dev)
        return
    matmul_peers(torch, F, dev)  # these two before the mamba_ssm imports: they need only torch
    sample_peers(torch, dev)
    if only == "matmul":
        return

    from mamba_ssm.ops.triton.ssd_combined import mamba_chunk_scan_combined
    from mamba_ssm.ops.triton.selective_state_update import selective_state_update
    from mamba_ssm.ops.triton.layernorm_gated import rmsnorm_fn

    H, P, N, G = 128, 64, 128, 8
    def ssd_inputs(Bsz, L, H=H, P=P, N=N, G=G, z=False):
        bf = torch.bfloat16
        x = torch.randn(Bsz, L, H, P, device=dev, dtype=bf)
        dt = (torch.rand(Bsz, L, H, device=dev) * 4 - 3).to(bf)
        A = -torch.exp(torch.rand(H, device=dev) * 2.77)
        Bm = torch.randn(Bsz, L, G, N, device=dev, dtype=bf)
        Cm = torch.randn(Bsz, L, G, N, device=dev, dtype=bf)
        D = torch.randn(H, device=dev)
        dt_bias = torch.rand(H, device=dev) * 3 - 4
        zz = torch.randn(Bsz, L, H, P, device=dev, dtype=bf) if z else None
        return x, dt, A, Bm, Cm, D, dt_bias, zz

    # ---- accuracy of the peer at bf16 (same distributions as gpu_test_kernels), vs fp64
    for (Bsz, L, h, p, n, g, q) in [(2, 300, 8, 64, 128, 2, 256), (1, 1000, 8, 64, 128, 4, 64)]:
        x, dt, A, Bm, Cm, D, dt_bias, zz = ssd_inputs(Bsz, L, h, p, n, g, z=(L == 300))
        init = torch.randn(Bsz, h, p, n, device=dev) * 0.5
        y, fs = mamba_chunk_scan_combined(x, dt, A, Bm, Cm, q, D=D, z=zz, dt_bias=dt_bias, dt_softplus=True,
                                          initial_states=init, return_final_states=True)
        yr, sr = ssd_reference_f64(x, dt, A, Bm, Cm, D, zz, dt_bias, init)
        print(f"ACC mamba_chunk_scan_combined_bf16 B={Bsz} L={L} H={h} P={p} N={n} G={g} Q={q} "
              f"y_nmse={nmse(y, yr):.3g} state_nmse={nmse(fs, sr):.3g} "
              f"bf16_output_rounding_nmse={nmse(yr.to(torch.bfloat16), yr):.3g}", flush=True)

    # ---- SSD chunked prefill
    for L in (4096, 16384):
        x, dt, A, Bm, Cm, D, dt_bias, _ = ssd_inputs(1, L)
        f = lambda: mamba_chunk_scan_combined(x, dt, A, Bm, Cm, 256, D=D, dt_bias=dt_bias, dt_softplus=True)
        print(f"PEER ssd_chunked_L{L} ms={median_ms(f, 5, 30):.5f} peer=mamba_chunk_scan_combined", flush=True)
        del x, Bm, Cm
    if only == "ssd":
        return

    # ---- SSD state update (decode), like Mamba2.step: dt, dt_bias, D, A tied over P and N
    for Bsz in (1, 16, 64):
        state = torch.randn(Bsz, H, P, N, device=dev) * 0.5
        x = torch.randn(Bsz, H, P, device=dev, dtype=torch.bfloat16)
        dt = (torch.rand(Bsz, H, device=dev) * 4 - 3).to(torch.bfloat16)[:, :, None].expand(Bsz, H, P)
        A = (-torch.exp(torch.rand(H, device=dev) * 2.77))[:, None, None].expand(H, P, N)
        Bm = torch.randn(Bsz, G, N, device=dev, dtype=torch.bfloat16)
        Cm = torch.randn(Bsz, G, N, device=dev, dtype=torch.bfloat16)
        D = torch.randn(H, device=dev)[:, None].expand(H, P)
        dt_bias = (torch.rand(H, device=dev) * 3 - 4)[:, None].expand(H, P)
        f = lambda: selective_state_update(state, x, dt, A, Bm, Cm, D=D, z=None, dt_bias=dt_bias, dt_softplus=True)
        print(f"PEER ssd_state_update_B{Bsz} ms={median_ms(f, 10, 100):.5f} peer=selective_state_update", flush=True)

    # ---- conv1d: PyTorch depthwise conv1d (bf16) + SiLU on [B, C, L]; decode: the
    # state-shift update written in PyTorch (roll, multiply, sum), batch 64
    C, K = 10240, 4
    w = torch.randn(C, 1, K, device=dev, dtype=torch.bfloat16)
    bias = torch.randn(C, device=dev, dtype=torch.bfloat16)
    for L in (4096, 16384):
        xc = torch.randn(1, C, L, device=dev, dtype=torch.bfloat16)
        f = lambda: F.silu(F.conv1d(xc, w, bias, padding=K - 1, groups=C)[..., :L])
        print(f"PEER conv1d_L{L} ms={median_ms(f, 5, 30):.5f} peer=torch.conv1d_depthwise", flush=True)
    cs = torch.randn(64, C, K, device=dev, dtype=torch.bfloat16)
    xt = torch.randn(64, C, device=dev, dtype=torch.bfloat16)
    def upd():
        cs.copy_(torch.roll(cs, shifts=-1, dims=-1))
        cs[:, :, -1] = xt
        return F.silu((cs * w[:, 0, :]).sum(-1) + bias)
    print(f"PEER conv1d_update_B64 ms={median_ms(upd, 10, 100):.5f} peer=torch_roll_update", flush=True)

    # ---- gated RMSNorm (norm_before_gate=False, groups of 1024)
    xg = torch.randn(4096, 8192, device=dev, dtype=torch.bfloat16)
    zg = torch.randn(4096, 8192, device=dev, dtype=torch.bfloat16)
    wg = torch.randn(8192, device=dev, dtype=torch.bfloat16)
    f = lambda: rmsnorm_fn(xg, wg, None, z=zg, eps=1e-5, group_size=1024, norm_before_gate=False)
    print(f"PEER gated_rmsnorm_L4096 ms={median_ms(f, 5, 50):.5f} peer=mamba_ssm.rmsnorm_fn", flush=True)


    attention_peers(torch, F, dev)

    # ---- Mamba-1 selective scan: the PyTorch reference loop (mamba_ssm's selective_scan_ref form)
    E, N1, L1 = 5120, 16, 2048
    u = torch.randn(1, E, L1, device=dev, dtype=torch.bfloat16)
    dts = torch.rand(1, E, L1, device=dev).to(torch.bfloat16)
    A1 = -torch.arange(1, N1 + 1, device=dev, dtype=torch.float32)[None].expand(E, N1)
    B1 = torch.randn(1, N1, L1, device=dev, dtype=torch.bfloat16)
    C1 = torch.randn(1, N1, L1, device=dev, dtype=torch.bfloat16)
    D1 = torch.randn(E, device=dev)
    z1 = torch.randn(1, E, L1, device=dev, dtype=torch.bfloat16)
    db = torch.rand(E, device=dev)
    def scan_ref():
        d = F.softplus(dts.float() + db[None, :, None])
        dA = torch.exp(torch.einsum("bdl,dn->bdln", d, A1))
        dBu = torch.einsum("bdl,bnl,bdl->bdln", d, B1.float(), u.float())
        h = u.new_zeros(1, E, N1, dtype=torch.float32)
        ys = []
        for t in range(L1):
            h = dA[:, :, t] * h + dBu[:, :, t]
            ys.append(torch.einsum("bdn,bn->bd", h, C1[:, :, t].float()))
        y = torch.stack(ys, 2) + u.float() * D1[None, :, None]
        return (y * F.silu(z1.float())).to(torch.bfloat16)
    print(f"PEER selective_scan_E5120_N16_L2048 ms={median_ms(scan_ref, 1, 3):.5f} peer=torch_reference_loop", flush=True)


def parse(path, tag):
    rows = {}
    for line in open(path, errors="replace"):
        if line.startswith(tag + " "):
            parts = line.split()
            kv = dict(p.split("=", 1) for p in parts[2:] if "=" in p)
            rows[parts[1]] = kv
        elif tag == "PEER" and line.startswith("CEIL "):
            rows["__ceil__"] = dict(p.split("=", 1) for p in line.split()[1:])
    return rows


def table(ours_path, peers_path):
    ours, peers = parse(ours_path, "BENCH"), parse(peers_path, "PEER")
    ceil = peers.get("__ceil__", {})
    bw = float(ceil.get("copy_GBps", "nan")) * 1e9
    rate = float(ceil.get("bf16_matmul_TFLOPs", "nan")) * 1e12
    print(f"Ceilings measured in this run: copy {bw / 1e9:.0f} GB/s (read+write), bf16 matmul {rate / 1e12:.0f} TFLOP/s\n")
    print("| kernel | ours (ms) | peer | peer (ms) | speed-up vs peer | floor (ms) | fraction of floor |")
    print("|---|---|---|---|---|---|---|")
    for name, kv in ours.items():
        ms = float(kv["ms"])
        floor = max(float(kv.get("bytes", 0)) / bw, float(kv.get("flops", 0)) / rate) * 1e3
        p = peers.get(name)
        pms = float(p["ms"]) if p else float("nan")
        pname = p.get("peer", "") if p else "—"
        print(f"| {name} | {ms:.4f} | {pname} | {pms:.4f} | {pms / ms:.2f}× | {floor:.4f} | {floor / ms:.0%} |")


if __name__ == "__main__":
    if sys.argv[1] == "peers":
        peers(sys.argv[2] if len(sys.argv) > 2 else None)
    else:
        table(sys.argv[2], sys.argv[3])

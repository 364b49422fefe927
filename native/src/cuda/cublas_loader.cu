// cuBLAS loaded at run time: where it is looked for, once per process; one handle per
// context. See cublas_loader.h for the lookup order and the source of the declarations.
#include "cublas_loader.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <cstdlib>

namespace mamba4j::cuda::blas {

namespace {

struct Loaded {
    Api api;
    bool ok = false;
    std::string error;  // why not, when !ok
};

bool is_dir(const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// dlopen, appending "name (reason)" to `tried` on failure.
void* open_lib(const std::string& name, std::string& tried) {
    dlerror();
    void* lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
        const char* why = dlerror();
        tried += (tried.empty() ? "" : "; ") + name + " (" + (why ? why : "unknown dlopen error") + ")";
    }
    return lib;
}

// libcublas.so.N needs libcublasLt.so.N: load the sibling from the same folder first, so a
// folder that is not on the loader's search path works too (best effort: libcublas's own
// RUNPATH may find it anyway, and its own dlopen error says so when neither does).
void* open_cublas(const std::string& path, std::string& tried) {
    const size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
    const std::string file = path.substr(dir.size());
    const std::string prefix = "libcublas.so";
    if (file.compare(0, prefix.size(), prefix) == 0) {
        dlopen((dir + "libcublasLt" + file.substr(9)).c_str(), RTLD_NOW | RTLD_LOCAL);
        dlerror();
    }
    return open_lib(path, tried);
}

template <class F>
void resolve(void* lib, const char* name, F& f, std::string& missing) {
    f = reinterpret_cast<F>(dlsym(lib, name));
    if (f == nullptr) missing += std::string(missing.empty() ? "" : ", ") + name;
}

Loaded load() {
    Loaded r;
    std::string tried;
    void* lib = nullptr;
    const char* env = std::getenv("MAMBA4J_CUBLAS");
    const bool from_env = env != nullptr && *env != '\0';
    if (from_env) {
        const std::string p = env;
        if (is_dir(p)) {
            for (const char* v : {"13", "12"})
                if ((lib = open_cublas(p + "/libcublas.so." + v, tried)) != nullptr) {
                    r.api.path = p + "/libcublas.so." + v;
                    break;
                }
        } else if ((lib = open_cublas(p, tried)) != nullptr) {
            r.api.path = p;
        }
    } else {
        for (const char* name : {"libcublas.so.13", "libcublas.so.12"})
            if ((lib = open_cublas(name, tried)) != nullptr) {
                r.api.path = name;
                break;
            }
    }
    if (lib == nullptr) {
        r.error = std::string("cuBLAS could not be loaded (matmul on CUDA needs it); tried ") + tried +
                  (from_env ? ". MAMBA4J_CUBLAS is set, so nothing else was tried: point it at libcublas.so.13 "
                              "(or .so.12) or at the folder holding it"
                            : ". Set MAMBA4J_CUBLAS to libcublas.so.13 or the folder holding it (PyTorch's pip "
                              "install has it in site-packages/nvidia/cu13/lib; CUDA 12 wheels: "
                              "site-packages/nvidia/cublas/lib), or add that folder to LD_LIBRARY_PATH");
        return r;
    }
    std::string missing;
    Api& a = r.api;
    resolve(lib, "cublasCreate_v2", a.create, missing);
    resolve(lib, "cublasDestroy_v2", a.destroy, missing);
    resolve(lib, "cublasSetStream_v2", a.set_stream, missing);
    resolve(lib, "cublasSetMathMode", a.set_math_mode, missing);
    resolve(lib, "cublasGemmEx", a.gemm_ex, missing);
    if (!missing.empty()) {
        r.error = "loaded " + a.path + (from_env ? " (MAMBA4J_CUBLAS)" : "") + " but it lacks " + missing +
                  ": not a cuBLAS 12/13 library; set MAMBA4J_CUBLAS to libcublas.so.13 or the folder holding it";
        return r;
    }
    std::string optional;
    resolve(lib, "cublasGetStatusString", a.status_string, optional);
    Status (*get_property)(int, int*) = nullptr;
    resolve(lib, "cublasGetProperty", get_property, optional);
    if (get_property)
        for (int i = 0; i < 3; i++) get_property(i, &a.version[i]);  // MAJOR_VERSION, MINOR_VERSION, PATCH_LEVEL
    r.ok = true;
    return r;
}

}  // namespace

const Api& api() {
    static const Loaded loaded = load();  // once per process; C++ makes this thread-safe
    if (!loaded.ok) fail(MAMBA4J_ERR_UNSUPPORTED, "%s", loaded.error.c_str());
    return loaded.api;
}

void check(Status s, const char* what) {
    if (s == 0) return;
    const char* name = api().status_string ? api().status_string(s) : nullptr;
    fail(MAMBA4J_ERR_CUDA, "%s: cuBLAS status %d (%s)", what, s, name ? name : "see cublasStatus_t");
}

Handle handle(mamba4j_context* ctx) {
    if (ctx->blas) return static_cast<Handle>(ctx->blas);
    const Api& a = api();
    Handle h = nullptr;
    check(a.create(&h), "cublasCreate");
    // CUBLAS_DEFAULT_MATH (fp32 stays fp32: no TF32) with reductions kept in the fp32
    // accumulator type even for bf16 / f16 outputs (split-K included).
    Status s = a.set_stream(h, ctx->stream);
    if (s == 0) s = a.set_math_mode(h, MATH_DISALLOW_REDUCED_PRECISION_REDUCTION);
    if (s != 0) {
        a.destroy(h);
        check(s, "cublasSetStream / cublasSetMathMode");
    }
    ctx->blas = h;
    return h;
}

void release(mamba4j_context* ctx) {
    if (ctx->blas == nullptr) return;  // never created: cuBLAS may not even be loadable
    api().destroy(static_cast<Handle>(ctx->blas));
    ctx->blas = nullptr;
}

}  // namespace mamba4j::cuda::blas

# Spack package for kinterp, in a repository of its own (spack/repo.yaml):
#
#   spack repo add ./spack
#   spack install kinterp+openmp
#   spack install kinterp+cuda cuda_arch=90
#
# The repository uses Spack's Package API v1.0 layout, which Spack 0.23 reads
# natively and Spack 1.x reads too, supplying CMakePackage and CudaPackage to
# such packages itself (so no `spack_repo.builtin` imports here).

from spack.package import *


class Kinterp(CMakePackage, CudaPackage):
    """Kernel interpolation and kernel ridge regression, matrix-free and
    distributed: solves (alpha I + K) a = b by conjugate gradient (optionally
    Nystrom-preconditioned) over MPI ranks with Kokkos on each rank, and
    evaluates the fitted model. KeOps' KernelSolve and Genred for clusters: a
    C++17 library and the `kinterp` command-line tool."""

    # Spack fetches the "main" version with git, so it needs a repository
    # address; this one is a placeholder that never resolves. Point it at your
    # clone (a path or a file:// URL works), or build a checkout in place
    # without fetching: `spack develop --path /path/to/kinterp kinterp@main`
    # in a Spack environment.
    git = "https://example.invalid/kinterp.git"

    version("main", branch="main")

    # Like ArborX, kinterp runs on the backends its Kokkos provides: +openmp and
    # +cuda ask Kokkos (and Kokkos Kernels) for them. A Kokkos without OpenMP
    # falls back to its Serial backend on the host.
    variant("openmp", default=True, description="Kokkos' OpenMP backend: threads on each rank")
    variant(
        "blas",
        default=True,
        description="Kokkos Kernels with a vendor BLAS (and cuBLAS with +cuda): kernel sums "
        "over many features (d >= 48 on CPUs, 16 on GPUs) then run through GEMM",
    )
    variant("fortran", default=False, description="The Fortran 2008 module over the C API")
    variant(
        "hdf5",
        default=True,
        description="FILE.h5:/DATASET files through parallel HDF5 (weights that record their "
        "kernel for `kinterp predict`)",
    )

    depends_on("c", type="build")  # the C API
    depends_on("cxx", type="build")
    depends_on("fortran", type="build", when="+fortran")
    depends_on("cmake@3.16:", type="build")
    depends_on("mpi")
    depends_on("hdf5+mpi", when="+hdf5")

    # Kokkos 3.4 (Debian 12's) through 4.x; Kokkos 5 (C++20) has not been tried.
    depends_on("kokkos@3.4:4")
    depends_on("kokkos-kernels@3.4:4")
    # kinterp is C++17: a Kokkos built for C++17 or newer, not a mix of standards.
    conflicts("^kokkos cxxstd=14", msg="kinterp needs a Kokkos built with cxxstd=17 or newer")

    depends_on("kokkos+openmp", when="+openmp")
    depends_on("kokkos-kernels+openmp", when="+openmp")

    depends_on("kokkos+cuda+cuda_lambda", when="+cuda")
    depends_on("kokkos-kernels+cuda", when="+cuda")
    for _arch in CudaPackage.cuda_arch_values:
        depends_on(f"kokkos+cuda cuda_arch={_arch}", when=f"+cuda cuda_arch={_arch}")
    conflicts("+cuda", when="cuda_arch=none", msg="give the GPU's cuda_arch, e.g. cuda_arch=90")
    # With GCC as host compiler, Kokkos builds +cuda only through nvcc_wrapper
    # (+wrapper), and kinterp is compiled with the compiler Kokkos used; a
    # CUDA-capable Clang needs no wrapper.
    depends_on("kokkos+wrapper", when="+cuda %gcc")

    # Without a vendor GEMM, kinterp keeps to its direct sums (Kokkos Kernels'
    # own GEMM is slower than they are).
    depends_on("kokkos-kernels+blas", when="+blas")
    depends_on("kokkos-kernels+cublas", when="+blas+cuda")

    # `spack install --test=root kinterp`: GoogleTest for the suite, Python with
    # NumPy for the command-line tests (which run `mpiexec -n 1..4 kinterp`).
    depends_on("googletest", type="test")
    depends_on("python@3:", type="test")
    depends_on("py-numpy", type="test")
    depends_on("py-h5py", type="test", when="+hdf5")

    sanity_check_is_file = [join_path("bin", "kinterp")]

    def cmake_args(self):
        spec = self.spec
        args = [
            self.define("Kokkos_ROOT", spec["kokkos"].prefix),
            self.define("KokkosKernels_ROOT", spec["kokkos-kernels"].prefix),
            # The MPI of the spec, not another one found on PATH.
            self.define("MPI_C_COMPILER", spec["mpi"].mpicc),
            self.define("MPI_CXX_COMPILER", spec["mpi"].mpicxx),
            self.define("KINTERP_ENABLE_APPS", True),
            self.define("KINTERP_ENABLE_PERF", False),
            self.define("KINTERP_ENABLE_TESTS", self.run_tests),
            # Explicit: CMake would otherwise build the module whenever it finds
            # some Fortran compiler, Spack's or not.
            self.define_from_variant("KINTERP_ENABLE_FORTRAN", "fortran"),
            # ON or OFF, never AUTO: not whatever HDF5 happens to be found.
            self.define("KINTERP_ENABLE_HDF5", "ON" if spec.satisfies("+hdf5") else "OFF"),
            # Spack's compiler wrappers already target spec.target.
            self.define("KINTERP_ARCH_NATIVE", False),
        ]
        if spec.satisfies("+hdf5"):
            args.append(self.define("HDF5_ROOT", spec["hdf5"].prefix))
        if spec.satisfies("+fortran"):
            args.append(self.define("MPI_Fortran_COMPILER", spec["mpi"].mpifc))
        if spec.satisfies("+cuda"):
            # The compiler Kokkos was built with: nvcc_wrapper (+wrapper) or
            # the CUDA-capable Clang, as ArborX does.
            args.append(self.define("CMAKE_CXX_COMPILER", spec["kokkos"].package.kokkos_cxx))
        if self.run_tests:
            args.append(self.define("KINTERP_CLI_TEST_PYTHON", spec["python"].command.path))
        return args

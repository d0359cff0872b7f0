#pragma once
/// \file kinterp.hpp
/// Everything a C++ program needs: KernelSolve, KernelSum, KernelModel, formulas, files of rows
/// (.npy, HDF5, CSV).
/// (C and Fortran: kinterp.h and the kinterp module.)

#include <kinterp/FormulaSolve.hpp>
#include <kinterp/Genred.hpp>
#include <kinterp/KernelModel.hpp>
#include <kinterp/KernelSolve.hpp>
#include <kinterp/KernelSum.hpp>
#include <kinterp/core/Environment.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/Partition.hpp>
#include <kinterp/formula/Formula.hpp>
#include <kinterp/io/Csv.hpp>
#include <kinterp/io/Hdf5.hpp>
#include <kinterp/io/LocalRowsView.hpp>
#include <kinterp/io/Npy.hpp>
#include <kinterp/io/RowFile.hpp>

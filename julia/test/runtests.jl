# Tests of PyqhnEngine against energies written by pyqhn's Python engines
# (fixtures.toml, from scripts/write_julia_fixtures.py; tests/test_julia_engine.py checks
# that file against the Python engines, so both sides agree on one set of numbers).
#
#     julia --project=julia -e 'using Pkg; Pkg.instantiate(); Pkg.test()'
using PyqhnEngine
using Test
using TOML
using LinearAlgebra: dot, norm

const CASES = TOML.parsefile(joinpath(@__DIR__, "fixtures.toml"))["case"]

noise_of(c) = c["lambda1"] == 0 && c["lambda2"] == 0 ? nothing :
              NoiseModel(c["lambda1"], c["lambda2"], c["cx_channel"])

@testset "PyqhnEngine" begin
    @testset "fixture n=$(c["n"]) blocks=$(c["blocks"]) λ=($(c["lambda1"]), $(c["lambda2"])) $(c["cx_channel"])" for c in CASES
        θ, cost = Float64.(c["theta"]), Float64.(c["cost"])
        n, blocks, entangling, noise = c["n"], c["blocks"], c["entangling"], noise_of(c)
        e = energy(cost, θ, blocks; entangling, noise)
        @test e ≈ c["energy"] atol = (noise === nothing ? 1e-10 : 1e-9)
        p = probabilities(θ, n, blocks; entangling, noise)
        @test length(p) == 2^n
        @test sum(p) ≈ 1 atol = 1e-10
        @test dot(p, cost) ≈ c["energy"] atol = 1e-9
        @test flat_from_site_major(Float64.(c["theta_site_major"]), n, blocks) == θ
        @test site_major_from_flat(θ, n, blocks) == Float64.(c["theta_site_major"])
    end

    @testset "batches are columns" begin
        c = CASES[findfirst(c -> c["n"] == 4 && c["lambda1"] == 0, CASES)]
        θ, cost = Float64.(c["theta"]), Float64.(c["cost"])
        op = cost_operator(cost)
        thetas = hcat(θ, 2 .* θ, zero(θ))
        es = energies(op, thetas, c["blocks"])
        @test es[1] ≈ c["energy"] atol = 1e-10
        @test es[3] ≈ cost[1] atol = 1e-12              # θ = 0: |0000⟩, index 0
        ps = probabilities(thetas, 4, c["blocks"])
        @test size(ps) == (16, 3)
        @test ps' * cost ≈ es atol = 1e-10
        e, g = energies_and_gradients(op, thetas, c["blocks"])
        @test e ≈ es atol = 1e-10
        @test size(g) == (length(θ), 3)
    end

    @testset "Zygote gradient = central differences" begin
        c = CASES[findfirst(c -> c["n"] == 5 && c["lambda1"] == 0, CASES)]
        θ, op, blocks = Float64.(c["theta"]), cost_operator(Float64.(c["cost"])), c["blocks"]
        e, g = energy_and_gradient(op, θ, blocks)
        @test e ≈ c["energy"] atol = 1e-10
        h = 1e-5
        for k in (1, 7, length(θ))
            δ = zeros(length(θ)); δ[k] = h
            fd = (energy(op, θ .+ δ, blocks) - energy(op, θ .- δ, blocks)) / (2h)
            @test g[k] ≈ fd atol = 1e-7
        end
    end

    @testset "site 1 is the least significant bit" begin
        θ = zeros(n_params(3, 1)); θ[1] = π                   # Ry(π) on site 1 only
        p = probabilities(θ, 3, 1; entangling=false)
        @test p[2] ≈ 1 atol = 1e-12                              # index k = 1
        @test all(==(1), sample_indices(θ, 3, 1, 20; entangling=false, seed=1))
        ρp = probabilities(θ, 3, 1; entangling=false, noise=noise_from_strength(1.0))
        @test ρp[2] < 1 && ρp[2] > 0.99
    end

    @testset "noise model checks" begin
        @test_throws ArgumentError NoiseModel(0.8, 0.0)
        @test_throws ArgumentError NoiseModel(0.0, 0.9, :one_qubit)
        @test_throws ArgumentError NoiseModel(0.0, 0.1, :both)
        @test NoiseModel(0.001, 0.1, "one-qubit").cx_channel === :one_qubit
        @test_throws DimensionMismatch energy(rand(8), zeros(5), 1)
        @test_throws DimensionMismatch cost_operator(rand(6))
    end

    @testset "OptimKit L-BFGS" begin
        target = [0.3, -1.2, 2.0]
        t = lbfgs_trajectory(x -> (sum(abs2, x .- target), 2 .* (x .- target)), zeros(3))
        @test t.converged
        @test t.xs[:, end] ≈ target atol = 1e-6
        @test size(t.xs, 2) == length(t.fs) == length(t.evals) == size(t.gs, 2)
        @test t.xs[:, 1] == zeros(3) && t.evals[1] == 1 && issorted(t.evals)
        c = CASES[findfirst(c -> c["n"] == 4 && c["lambda1"] == 0, CASES)]
        run = optimize_lbfgs(Float64.(c["cost"]), 4, 2; θ0=Float64.(c["theta"]), maxiter=30)
        @test run.fs[1] ≈ c["energy"] atol = 1e-10
        @test run.fs[end] < run.fs[1]
        @test run.fs[end] >= minimum(c["cost"]) - 1e-10
    end

    @testset "BlackBoxOptim probabilistic descent" begin
        f(x) = sum(abs2, x .- 0.5)
        t = probabilistic_descent_trajectory(f, fill(2π + 0.1, 4); max_steps=200, seed=3)
        @test t.xs[:, 1] ≈ fill(0.1, 4)                       # wrapped into (-π, π)
        # BlackBoxOptim stops once num_steps > MaxSteps: 201 steps, one callback each
        @test length(t.fs) == length(t.evals) == 1 + 201
        # before step 1: our call on x0, the type check, the searcher's random start and x0
        # again; step 1 scores one or two mirrored directions
        @test t.evals[1] == 1 && t.evals[2] in (5, 6)
        @test all(diff(t.fs) .<= 0)                           # best so far
        @test t.fs[end] < 0.05
        t2 = probabilistic_descent_trajectory(f, fill(2π + 0.1, 4); max_steps=200, seed=3)
        @test t2.fs == t.fs                                   # seeded
    end
end

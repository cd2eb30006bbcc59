"""
    PyqhnEngine

The original simulation stack of the quantum-hypernetwork study for pyqhn's circuits:
PastaQ.jl / ITensors.jl MPS (noise-free) and MPO (noisy) simulation, Zygote gradients,
OptimKit L-BFGS and BlackBoxOptim's probabilistic descent.

Conventions (pyqhn's CONVENTIONS.md, identical in Python and here):

* `N` qubits, sites `1..N`, initial state `|0…0⟩`. Block `d = 1..blocks` applies
  `CX(j, j+1)` for `j = 1 + d % 2 : 2 : N-1`, then `Ry(θ)` on every site, then `Rz(ϕ)` on
  every site (PastaQ's gates). The product-state ansatz is one block without CX
  (`entangling = false`).
* Flat angle layout (the original `params.txt`): the Ry angles of blocks `1..blocks`
  (`N` each, site 1 first), then the Rz angles: length `P = 2·blocks·N`. A parameter
  batch is a `P × R` matrix, one column per parameter set.
* Cost tables are vectors of length `2^N` indexed by `k = 0..2^N-1` (Julia index `k+1`);
  site `j` carries bit `j-1` of `k` (site 1 the least significant bit).
* Noise ([`NoiseModel`](@ref)): PastaQ's `"depolarizing"` channel with probability `λ1`
  after every Ry and Rz; after every CX either the 2-qubit channel with `λ2`
  (`cx_channel = :two_qubit`, the original runs, through `runcircuit(...; noise)`) or
  the 1-qubit channel with `λ2` on each qubit of the CX (`:one_qubit`, the paper's text).
  Noisy energies are `Tr(ρ Ĉ)` of the MPO `ρ` (truncation cutoff 1e-18) with the cost as
  an MPO.

Used from Python by `pyqhn.engines.julia` (which `include`s this file into juliacall's
`Main`), and from a Julia REPL in a checkout: `julia --project=.` (the root Project.toml,
after `Pkg.develop(path="julia")` once; see the README).
"""
module PyqhnEngine

using PastaQ: PastaQ, getsamples, productstate, qubits, runcircuit
using ITensors: ITensors, ITensor, Index, MPO, MPS, delta, inner, replaceind, siteinds, sim
using Zygote: Zygote
using OptimKit: OptimKit
using BlackBoxOptim: BlackBoxOptim
using LinearAlgebra: norm
using Random: Random

export NoiseModel, noise_from_strength, CostOperator, cost_operator, circuit_gates,
    n_params, flat_from_site_major, site_major_from_flat, energy, energies,
    energy_and_gradient, energies_and_gradients, probabilities, sample_indices,
    lbfgs_trajectory, probabilistic_descent_trajectory, optimize_lbfgs,
    optimize_probabilistic_descent

"Truncation cutoff of the noisy MPO simulation (the original runs' value)."
const RHO_CUTOFF = 1e-18
"λ1 and λ2 per unit noise strength p: `(λ1, λ2) = p × (0.001, 0.00375)`."
const LAMBDA_PER_P = (0.001, 0.00375)

# --------------------------------------------------------------------------- noise

"""
    NoiseModel(lambda1, lambda2, cx_channel = :two_qubit)

Depolarizing noise: probability `lambda1` after every Ry and Rz, `lambda2` after every CX,
as the 2-qubit channel (`:two_qubit`, the original runs; `lambda2 ≤ 15/16`) or the
1-qubit channel on each qubit of the CX (`:one_qubit`; `lambda2 ≤ 3/4`). `cx_channel` may
also be the strings `"two-qubit"` / `"one-qubit"` (pyqhn's names).
"""
struct NoiseModel
    lambda1::Float64
    lambda2::Float64
    cx_channel::Symbol
    function NoiseModel(lambda1::Real, lambda2::Real, cx_channel::Symbol=:two_qubit)
        cx_channel in (:two_qubit, :one_qubit) || throw(ArgumentError(
            "cx_channel must be :two_qubit or :one_qubit, got :$cx_channel"))
        top2 = cx_channel === :two_qubit ? 15 / 16 : 3 / 4
        0 <= lambda1 <= 3 / 4 || throw(ArgumentError(
            "lambda1 must be a probability in [0, 3/4], got $lambda1"))
        0 <= lambda2 <= top2 || throw(ArgumentError(
            "lambda2 must be a probability in [0, $top2] for the $cx_channel channel, " *
            "got $lambda2"))
        return new(Float64(lambda1), Float64(lambda2), cx_channel)
    end
end
NoiseModel(l1::Real, l2::Real, ch::AbstractString) =
    NoiseModel(l1, l2, Symbol(replace(ch, "-" => "_")))

"The paper's scale: `(λ1, λ2) = p × (0.001, 0.00375)`."
noise_from_strength(p::Real; cx_channel=:two_qubit) =
    NoiseModel(p * LAMBDA_PER_P[1], p * LAMBDA_PER_P[2], cx_channel)

isnoiseless(noise) = noise === nothing || (noise.lambda1 == 0 && noise.lambda2 == 0)

# --------------------------------------------------------------------------- circuits

"Length of the flat angle vector: `2·blocks·N`."
n_params(N::Integer, blocks::Integer) = 2 * blocks * N

function check_circuit(P::Integer, N::Integer, blocks::Integer, entangling::Bool)
    N >= 1 || throw(ArgumentError("N must be at least 1, got $N"))
    blocks >= 1 || throw(ArgumentError("blocks must be at least 1, got $blocks"))
    entangling || blocks == 1 || throw(ArgumentError(
        "the product-state ansatz (entangling = false) has exactly one block"))
    P == n_params(N, blocks) || throw(DimensionMismatch(
        "expected $(n_params(N, blocks)) angles (2·blocks·N) for N = $N, blocks = $blocks, " *
        "got $P"))
    return nothing
end

"""
    circuit_gates(θ, N, blocks; entangling = true)

The circuit as PastaQ gate tuples for one flat angle vector `θ` (length `2·blocks·N`).
Built from comprehensions and `vcat` (no mutation), so Zygote differentiates through it.
"""
function circuit_gates(θ::AbstractVector{<:Real}, N::Integer, blocks::Integer;
                       entangling::Bool=true)
    check_circuit(length(θ), N, blocks, entangling)
    gates = Tuple[]
    for d in 1:blocks
        cx = entangling ? [("CX", (j, j + 1)) for j in (1 + d % 2):2:(N - 1)] : Tuple[]
        ry = [("Ry", j, (θ=θ[(d - 1) * N + j],)) for j in 1:N]
        rz = [("Rz", j, (ϕ=θ[(blocks + d - 1) * N + j],)) for j in 1:N]
        gates = vcat(gates, cx, ry, rz)
    end
    return gates
end

"""
    flat_from_site_major(θ, N, blocks)

Angles in the site-major order (site 1's `2·blocks` angles — Ry of blocks `1..blocks`, then
Rz — then site 2's, …: `vec` of the `2·blocks × N` layer-by-site matrix) to the flat layout.
"""
function flat_from_site_major(θ::AbstractVector{<:Real}, N::Integer, blocks::Integer)
    check_circuit(length(θ), N, blocks, true)
    return vec(permutedims(reshape(collect(Float64, θ), 2 * blocks, N)))
end

"The inverse of [`flat_from_site_major`](@ref)."
function site_major_from_flat(θ::AbstractVector{<:Real}, N::Integer, blocks::Integer)
    check_circuit(length(θ), N, blocks, true)
    return vec(permutedims(reshape(collect(Float64, θ), N, 2 * blocks)))
end

# --------------------------------------------------------------------------- cost

"""
    CostOperator

The diagonal cost `Ĉ = Σ_k C[k] |k⟩⟨k|` as an MPO on the site indices `hilbert` that every
simulation with this operator uses. Build it with [`cost_operator`](@ref).
"""
struct CostOperator
    hilbert::Vector{<:Index}
    mpo::MPO
end

function n_qubits_of(cost::AbstractVector)
    n = round(Int, log2(max(length(cost), 1)))
    (length(cost) >= 2 && 2^n == length(cost)) || throw(DimensionMismatch(
        "a cost table has length 2^N (N ≥ 1), got $(length(cost)) values"))
    all(isfinite, cost) || throw(ArgumentError("the cost table must be finite"))
    return n
end

"""
    cost_operator(cost)

The cost table (length `2^N`, site 1 the least significant bit of the index) as an exact
MPO: the table is factorised site by site without truncation (QR), and every site tensor
`A[s]` becomes the diagonal `A[s] δ(s, s')`.
"""
function cost_operator(cost::AbstractVector{<:Real})
    N = n_qubits_of(cost)
    hilbert = qubits(N)
    c = reshape(collect(Float64, cost), ntuple(_ -> 2, N))   # dim j ↔ site j (bit j-1)
    ψc = ITensors.@disable_warn_order MPS(c, hilbert)         # exact: no cutoff given
    tensors = ITensor[]
    for j in 1:N
        t = sim(hilbert[j])
        push!(tensors, replaceind(ψc[j], hilbert[j] => t) * delta(t, hilbert[j], hilbert[j]'))
    end
    return CostOperator(hilbert, MPO(tensors))
end

# --------------------------------------------------------------------------- simulation

function one_qubit_cx_noise(gates, noise::NoiseModel)
    out = Tuple[]
    for g in gates
        push!(out, g)
        if g[1] == "CX"
            push!(out, ("depolarizing", g[2][1], (p=noise.lambda2,)))
            push!(out, ("depolarizing", g[2][2], (p=noise.lambda2,)))
        else
            push!(out, ("depolarizing", g[2], (p=noise.lambda1,)))
        end
    end
    return out
end

"""
    final_state(hilbert, θ, blocks; entangling = true, noise = nothing)

The MPS `|ψ_θ⟩` (noise-free) or the MPO `ρ_θ` (noisy) on the site indices `hilbert`.
"""
function final_state(hilbert::Vector{<:Index}, θ::AbstractVector{<:Real}, blocks::Integer;
                     entangling::Bool=true, noise=nothing)
    N = length(hilbert)
    gates = circuit_gates(θ, N, blocks; entangling=entangling)
    ψ0 = productstate(hilbert)
    isnoiseless(noise) && return runcircuit(ψ0, gates)
    if noise.cx_channel === :two_qubit   # the original runs
        model = (1 => ("depolarizing", (p=noise.lambda1,)),
                 2 => ("depolarizing", (p=noise.lambda2,)))
        return runcircuit(ψ0, gates; noise=model, cutoff=RHO_CUTOFF)
    end
    return runcircuit(ψ0, one_qubit_cx_noise(gates, noise); cutoff=RHO_CUTOFF)
end

expectation(op::CostOperator, ψ::MPS) = real(inner(ψ', op.mpo, ψ))
expectation(op::CostOperator, ρ::MPO) = real(inner(op.mpo, ρ))   # Tr(Ĉ† ρ) = Tr(Ĉ ρ)

"""
    energy(op::CostOperator, θ, blocks; entangling = true, noise = nothing)
    energy(cost::AbstractVector, θ, blocks; kwargs...)

`E(θ) = ⟨ψ_θ|Ĉ|ψ_θ⟩`, or `Tr(ρ_θ Ĉ)` with `noise` (a [`NoiseModel`](@ref)).
"""
function energy(op::CostOperator, θ::AbstractVector{<:Real}, blocks::Integer;
                entangling::Bool=true, noise=nothing)
    return expectation(op, final_state(op.hilbert, θ, blocks; entangling, noise))
end
energy(cost::AbstractVector{<:Real}, θ::AbstractVector{<:Real}, blocks::Integer; kwargs...) =
    energy(cost_operator(cost), θ, blocks; kwargs...)

"`[energy(op, thetas[:, r], blocks; kwargs...) for r]`: one energy per column (`P × R`)."
function energies(op::CostOperator, thetas::AbstractMatrix{<:Real}, blocks::Integer;
                  kwargs...)
    return Float64[energy(op, collect(Float64, view(thetas, :, r)), blocks; kwargs...)
                   for r in axes(thetas, 2)]
end

"""
    energy_and_gradient(op::CostOperator, θ, blocks; entangling = true)

`(E, ∇E)` of the noise-free energy, the gradient by Zygote through PastaQ's `runcircuit`
and ITensors' `inner` (as the original runs).
"""
function energy_and_gradient(op::CostOperator, θ::AbstractVector{<:Real}, blocks::Integer;
                             entangling::Bool=true)
    N = length(op.hilbert)
    check_circuit(length(θ), N, blocks, entangling)
    ψ0 = productstate(op.hilbert)   # outside the differentiated function: no mutation there
    function loss(t)
        ψ = runcircuit(ψ0, circuit_gates(t, N, blocks; entangling=entangling))
        return real(inner(ψ', op.mpo, ψ))
    end
    e, (g,) = Zygote.withgradient(loss, collect(Float64, θ))
    return Float64(e), collect(Float64, g)
end

"`(E (R,), ∇E (P × R))` for the columns of `thetas` (`P × R`), noise-free."
function energies_and_gradients(op::CostOperator, thetas::AbstractMatrix{<:Real},
                                blocks::Integer; entangling::Bool=true)
    R = size(thetas, 2)
    es = Vector{Float64}(undef, R)
    gs = Matrix{Float64}(undef, size(thetas, 1), R)
    for r in 1:R
        es[r], gs[:, r] = energy_and_gradient(op, view(thetas, :, r), blocks;
                                              entangling=entangling)
    end
    return es, gs
end

function diagonal(ψ::MPS)
    s = siteinds(ψ)
    full = ITensors.@disable_warn_order prod(ψ)   # order N: no warning at N ≥ 14
    return vec(abs2.(Array(full, s...)))          # column-major: site 1 varies fastest
end

function diagonal(ρ::MPO, hilbert::Vector{<:Index})
    t = sim.(hilbert)
    sites = [ρ[j] * delta(hilbert[j], hilbert[j]', t[j]) for j in eachindex(hilbert)]
    full = ITensors.@disable_warn_order prod(sites)
    return vec(real.(Array(full, t...)))
end

"""
    probabilities(θ, N, blocks; entangling = true, noise = nothing)

The `2^N` outcome probabilities `|ψ_θ(k)|²` (or `ρ_θ[k, k]`, whose entries may be
negative at the rounding level); entry `k + 1` holds index `k`, site 1 its least
significant bit.
"""
function probabilities(θ::AbstractVector{<:Real}, N::Integer, blocks::Integer;
                       entangling::Bool=true, noise=nothing)
    hilbert = qubits(N)
    state = final_state(hilbert, θ, blocks; entangling, noise)
    return state isa MPS ? diagonal(state) : diagonal(state, hilbert)
end

"Probabilities for every column of `thetas` (`P × R`): a `2^N × R` matrix."
function probabilities(thetas::AbstractMatrix{<:Real}, N::Integer, blocks::Integer;
                       kwargs...)
    out = Matrix{Float64}(undef, 2^N, size(thetas, 2))
    for r in axes(thetas, 2)
        out[:, r] = probabilities(collect(Float64, view(thetas, :, r)), N, blocks; kwargs...)
    end
    return out
end

"""
    sample_indices(θ, N, blocks, nshots; entangling = true, noise = nothing, seed = nothing)

`nshots` computational-basis measurements by PastaQ's `getsamples` (from `ρ` with noise),
as indices `k` (site 1 the least significant bit). `seed` seeds Julia's global RNG
(reproducible with one Julia thread).
"""
function sample_indices(θ::AbstractVector{<:Real}, N::Integer, blocks::Integer,
                        nshots::Integer; entangling::Bool=true, noise=nothing, seed=nothing)
    seed === nothing || Random.seed!(seed)
    bits = getsamples(final_state(qubits(N), θ, blocks; entangling, noise), nshots)
    return vec(bits * (2 .^ (0:(N - 1))))   # nshots × N outcomes, column j = site j
end

# --------------------------------------------------------------------------- optimisers

"""
    lbfgs_trajectory(fg, x0; gradtol = 1e-6, maxiter = 500, m = 8, verbosity = 0)

OptimKit's `LBFGS(m; gradtol, maxiter)` (Hager–Zhang line search, first step accepted:
the original runs; OptimKit 0.3, whose first trial step is `-∇f/‖∇f‖` with an uncapped line
search, see Project.toml) on `fg(x) -> (f, ∇f)` from `x0`. Returns a named tuple of the `K`
iterations: `xs` and `gs` (`P × (K+1)`, iterates and gradients, column 1 at `x0`), `fs`
(`K+1` values), `evals` (`K+1` cumulative `fg` calls) and `converged` (`‖∇f‖ ≤ gradtol`
at the last iterate).
"""
function lbfgs_trajectory(fg, x0::AbstractVector{<:Real}; gradtol::Real=1e-6,
                          maxiter::Integer=500, m::Integer=8, verbosity::Integer=0)
    xs, gs, fs, evals = Vector{Float64}[], Vector{Float64}[], Float64[], Int[]
    nfg = Ref(0)
    function record!(x, f, g, numiter)
        push!(xs, copy(x)); push!(gs, copy(g)); push!(fs, f); push!(evals, nfg[])
        return x, f, g
    end
    function counted(x)
        nfg[] += 1
        f, g = fg(x)
        f, g = Float64(f), collect(Float64, g)
        nfg[] == 1 && record!(x, f, g, 0)   # OptimKit evaluates x0 first
        return f, g
    end
    alg = OptimKit.LBFGS(m; gradtol=gradtol, maxiter=maxiter, verbosity=verbosity)
    OptimKit.optimize(counted, collect(Float64, x0), alg; finalize! = record!)
    return (xs=reduce(hcat, xs), gs=reduce(hcat, gs), fs=fs, evals=evals,
            converged=norm(last(gs)) <= gradtol)
end

"""
    probabilistic_descent_trajectory(f, x0; max_steps = 2000, search_range = (-π, π), seed = 0)

BlackBoxOptim's `:probabilistic_descent` (the original gradient-free runs) on `f(x) -> Real`
from `x0` (wrapped by `2π` into the search range: the energy is `2π`-periodic in every
angle), Julia's global RNG seeded with `seed`. Returns `xs` (`P × (K+1)`, the best point
scored so far after each step, column 1 = the wrapped `x0`), `fs`, `evals` (cumulative `f`
calls), `gs = nothing` and `converged = false` (the search stops on its step budget).

BlackBoxOptim 0.6.1–0.6.3 stop once `num_steps > max_steps` (opt_controller.jl), so a run
takes `K = max_steps + 1` steps, each followed by the callback (`CallbackInterval = 0.0`):
`K + 1 = max_steps + 2` columns. `evals` counts every call of `f`: `evals[1] = 1` is this
function's own call on `x0`; then, before step 1, BlackBoxOptim calls `f` three more times:
a type check on a random point (`setup_problem`, not scored), the searcher's own random start
(`GeneratingSetSearcher`, scored: it can be the best point) and `x0` again
(`set_candidate!`). Each step then scores one or two mirrored directions. The original,
which passed no `x0`, started from the searcher's own uniform random point in the range
(two calls of `f` before step 1: the type check and that start) and, with
`MaxSteps = 2000`, took 2001 steps.
"""
function probabilistic_descent_trajectory(f, x0::AbstractVector{<:Real};
                                          max_steps::Integer=2000,
                                          search_range::Tuple{Real,Real}=(-π, π),
                                          seed::Integer=0)
    lo, hi = Float64.(search_range)
    lo < hi || throw(ArgumentError("search_range must be (low, high) with low < high"))
    Random.seed!(seed)
    start = clamp.(mod.(collect(Float64, x0) .- lo, 2π) .+ lo, lo, hi)
    nf = Ref(0)
    counted(x) = (nf[] += 1; Float64(f(x)))
    xs, fs, evals = [copy(start)], [counted(start)], [1]
    function record(ctrl)
        push!(xs, copy(BlackBoxOptim.best_candidate(ctrl)))
        push!(fs, BlackBoxOptim.best_fitness(ctrl))
        push!(evals, nf[])
    end
    BlackBoxOptim.bboptimize(counted, start; SearchRange=(lo, hi), NumDimensions=length(start),
                             Method=:probabilistic_descent, MaxSteps=max_steps,
                             TraceMode=:silent, CallbackFunction=record, CallbackInterval=0.0)
    return (xs=reduce(hcat, xs), gs=nothing, fs=fs, evals=evals, converged=false)
end

random_angles(P::Integer) = 2π .* rand(P)

"""
    optimize_lbfgs(cost, N, blocks; θ0 = 2π·rand, entangling = true, kwargs...)

The original gradient-based run end to end: L-BFGS ([`lbfgs_trajectory`](@ref), `kwargs`)
on the noise-free energy with Zygote gradients. Returns the trajectory.
"""
function optimize_lbfgs(cost::AbstractVector{<:Real}, N::Integer, blocks::Integer;
                        θ0=random_angles(n_params(N, blocks)), entangling::Bool=true,
                        kwargs...)
    op = cost_operator(cost)
    length(op.hilbert) == N || throw(DimensionMismatch("the cost table is for " *
        "$(length(op.hilbert)) qubits, not N = $N"))
    fg = θ -> energy_and_gradient(op, θ, blocks; entangling=entangling)
    return lbfgs_trajectory(fg, θ0; kwargs...)
end

"""
    optimize_probabilistic_descent(cost, N, blocks; θ0, entangling = true, noise = nothing, kwargs...)

The original gradient-free run end to end: probabilistic descent
([`probabilistic_descent_trajectory`](@ref), `kwargs`) on the (noisy) energy.
"""
function optimize_probabilistic_descent(cost::AbstractVector{<:Real}, N::Integer,
                                        blocks::Integer;
                                        θ0=random_angles(n_params(N, blocks)),
                                        entangling::Bool=true, noise=nothing, kwargs...)
    op = cost_operator(cost)
    length(op.hilbert) == N || throw(DimensionMismatch("the cost table is for " *
        "$(length(op.hilbert)) qubits, not N = $N"))
    f = θ -> energy(op, θ, blocks; entangling=entangling, noise=noise)
    return probabilistic_descent_trajectory(f, θ0; kwargs...)
end

end # module

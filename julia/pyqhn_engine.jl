# The original stack's simulation of a pyqhn circuit, for cross-checks from Python.
# Conventions as pyqhn.circuits (PastaQ gate names "CX", "Ry" (θ), "Rz" (ϕ)).
module PyqhnEngine

using PastaQ
using ITensors

export circuit_gates, amplitudes, probabilities, energies

"""Gates of `blocks` brickwork blocks on `N` sites for one flat angle vector."""
function circuit_gates(theta::AbstractVector{<:Real}, N::Int, blocks::Int; entangling::Bool=true)
    ry = reshape(theta[1:(blocks * N)], N, blocks)
    rz = reshape(theta[(blocks * N + 1):end], N, blocks)
    gates = Tuple[]
    for d in 1:blocks
        if entangling
            for j in (1 + d % 2):2:(N - 1)
                push!(gates, ("CX", (j, j + 1)))
            end
        end
        for j in 1:N
            push!(gates, ("Ry", j, (θ = ry[j, d],)))
        end
        for j in 1:N
            push!(gates, ("Rz", j, (ϕ = rz[j, d],)))
        end
    end
    return gates
end

"""All 2^N amplitudes; index k (0-based) has site 1 as its least significant bit."""
function amplitudes(theta::AbstractVector{<:Real}, N::Int, blocks::Int; entangling::Bool=true)
    psi = runcircuit(N, circuit_gates(theta, N, blocks; entangling=entangling))
    full = prod(psi)
    s = siteinds(psi)
    return vec(Array(full, s...))   # column-major: site 1 varies fastest
end

"""|ψ(k)|² for every column of `thetas` (P × R): a 2^N × R matrix whose row k + 1 holds
index k (0-based), site 1 the least significant bit of k, as in `amplitudes`."""
function probabilities(thetas::AbstractMatrix{<:Real}, N::Int, blocks::Int;
                       entangling::Bool=true)
    probs = Matrix{Float64}(undef, 2^N, size(thetas, 2))
    for r in 1:size(thetas, 2)
        probs[:, r] = abs2.(amplitudes(view(thetas, :, r), N, blocks; entangling=entangling))
    end
    return probs
end

"""E = Σ_k |ψ(k)|² C[k] for every column of `thetas` (P × R)."""
function energies(cost::AbstractVector{<:Real}, thetas::AbstractMatrix{<:Real}, N::Int,
                  blocks::Int; entangling::Bool=true)
    return [sum(abs2.(amplitudes(view(thetas, :, r), N, blocks; entangling=entangling)) .* cost)
            for r in 1:size(thetas, 2)]
end

end # module

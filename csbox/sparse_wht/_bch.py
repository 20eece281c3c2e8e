"""Binary BCH codes (shortened, systematic): the delay design and decoder of SPRIGHT's sample-optimal scheme.

A single-ton at index ``k`` (``n`` bits) seen through delays ``d_p`` gives the bits
``b_p = <d_p, k> mod 2``. With the rows ``d_p`` of a systematic generator (``k``
itself, then the BCH parity bits of ``k``), the bit vector is a codeword of a
shortened binary BCH code of designed distance ``2t + 1``, so up to ``t``
wrong signs are corrected by syndrome decoding (Berlekamp-Massey, Chien search).

References
----------
S. Lin, D. Costello, "Error control coding", 2nd ed., ch. 6 (BCH codes).
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np

# primitive polynomials of GF(2^m), m = 3..7, as integers (bit i = coefficient of x^i)
_PRIMITIVE = {3: 0b1011, 4: 0b10011, 5: 0b100101, 6: 0b1000011, 7: 0b10001001}


@functools.lru_cache(maxsize=16)
def bch_code(n_info: int, t: int) -> BCH:
    """The (cached) code for ``n_info`` information bits correcting ``t`` errors."""
    return BCH(n_info, t)


_TABLE_MAX = 2_000_000  # error patterns of weight <= t tabulated by syndrome up to this count


class BCH:
    """A binary BCH code of length ``2^m - 1`` correcting ``t`` errors, shortened to ``n_info`` bits."""

    def __init__(self, n_info: int, t: int):
        for m in sorted(_PRIMITIVE):
            N = 2**m - 1
            self._field(m)
            g = self._generator(t)
            k = N - (len(g) - 1)
            if k >= n_info:
                break
        else:
            raise ValueError(f"no BCH code with m <= 7 holds {n_info} information bits at t = {t}")
        self.m, self.N, self.t, self.g, self.k, self.n_info = m, N, t, g, k, n_info
        self.n_parity = len(g) - 1
        # parity of each unit information vector: the linear map k -> parity bits
        unit = np.eye(n_info, dtype=np.int64)
        self.parity_matrix = np.stack([self._parity(unit[i]) for i in range(n_info)], 1)

    # -- GF(2^m)
    def _field(self, m: int) -> None:
        N = 2**m - 1
        exp = np.zeros(2 * N, dtype=np.int64)
        log = np.zeros(N + 1, dtype=np.int64)
        x = 1
        for i in range(N):
            exp[i] = x
            log[x] = i
            x <<= 1
            if x & (1 << m):
                x ^= _PRIMITIVE[m]
        exp[N:] = exp[:N]
        self._exp, self._log, self._N = exp, log, N

    def _mul(self, a: int, b: int) -> int:
        if a == 0 or b == 0:
            return 0
        return int(self._exp[self._log[a] + self._log[b]])

    def _inv(self, a: int) -> int:
        return int(self._exp[(self._N - self._log[a]) % self._N])

    def _minimal_poly(self, i: int) -> list[int]:
        """Minimal polynomial (GF(2) coefficients, low degree first) of alpha^i."""
        coset = []
        j = i % self._N
        while j not in coset:
            coset.append(j)
            j = (2 * j) % self._N
        poly = [1]
        for c in coset:  # multiply by (x + alpha^c)
            root = int(self._exp[c])
            new = [0] * (len(poly) + 1)
            for d, a in enumerate(poly):
                new[d + 1] ^= a
                new[d] ^= self._mul(a, root)
            poly = new
        return [int(a) for a in poly]  # coefficients are 0/1

    def _generator(self, t: int) -> list[int]:
        g = [1]
        seen: list[list[int]] = []
        for i in range(1, 2 * t + 1):
            mp = self._minimal_poly(i)
            if mp in seen:
                continue
            seen.append(mp)
            new = [0] * (len(g) + len(mp) - 1)
            for a, ca in enumerate(g):
                if ca:
                    for b, cb in enumerate(mp):
                        new[a + b] ^= cb
            g = new
        return g

    # -- encoding / decoding
    def _parity(self, info: np.ndarray) -> np.ndarray:
        """Parity bits of ``info`` (systematic: remainder of ``info(x) x^r`` by ``g(x)``)."""
        r = self.n_parity
        reg = [0] * (r + len(info))
        for i, bit in enumerate(info):
            reg[r + i] = int(bit)
        for d in range(len(reg) - 1, r - 1, -1):  # long division by g (monic, degree r)
            if reg[d]:
                for j, c in enumerate(self.g):
                    reg[d - r + j] ^= c
        return np.array(reg[:r], dtype=np.int64)

    # -- vectorised decoding: a syndrome table of every error pattern of weight <= t
    def _syndrome_table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """``(H, keys, patterns)``: the binary parity checks of ``S_1, S_3, .., S_{2t-1}``
        (the even syndromes are squares of these) and the sorted syndromes of all error
        patterns of weight 1..t with their positions (-1 padded); None when too many."""
        if hasattr(self, "_table"):
            return self._table
        length = self.n_parity + self.n_info
        count = sum(math.comb(length, w) for w in range(1, self.t + 1))
        if count > _TABLE_MAX:
            self._table = None
            return None
        odd = np.arange(1, 2 * self.t, 2)
        powers = self._exp[(odd[:, None] * np.arange(length)[None, :]) % self._N]  # (t, length)
        cols = np.zeros(length, dtype=np.int64)  # syndrome of a single error at each position
        for i in range(odd.size):
            cols |= powers[i].astype(np.int64) << (self.m * i)
        H = ((cols[None, :] >> np.arange(self.m * odd.size)[:, None]) & 1).astype(np.int64)
        keys, pats = [], []
        for w in range(1, self.t + 1):
            comb = np.array(list(itertools.combinations(range(length), w)), dtype=np.int64)
            keys.append(np.bitwise_xor.reduce(cols[comb], axis=1))
            pats.append(np.pad(comb, ((0, 0), (0, self.t - w)), constant_values=-1))
        keys_a, pats_a = np.concatenate(keys), np.concatenate(pats)
        order = np.argsort(keys_a, kind="stable")
        self._table = (H, keys_a[order], pats_a[order])
        return self._table

    def decode_many(self, words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Decode the columns of ``words`` (``(n_info + n_parity, m)`` bits) at once.

        Returns ``(info, ok)``: corrected information bits ``(n_info, m)`` and
        whether each word was within ``t`` errors of a codeword. A syndrome
        ``s = H c`` is looked up among the syndromes of all error patterns of
        weight ``<= t`` (distinct, as the code corrects ``t`` errors); a miss
        means more than ``t`` errors.
        """
        words = np.asarray(words, dtype=np.int64)
        table = self._syndrome_table()
        if table is None:  # long codes: the per-word Berlekamp-Massey decoder
            out = [self.decode(words[:, j]) for j in range(words.shape[1])]
            ok = np.array([o is not None for o in out], dtype=bool)
            info = np.stack([o if o is not None else words[: self.n_info, j] for j, o in enumerate(out)], 1)
            return info.reshape(self.n_info, -1), ok
        H, keys, pats = table
        r = self.n_parity
        c = np.concatenate([words[self.n_info :], words[: self.n_info]])  # polynomial order
        syn = np.sum(((H @ c) & 1) << np.arange(H.shape[0], dtype=np.int64)[:, None], axis=0)
        pos = np.clip(np.searchsorted(keys, syn), 0, keys.size - 1)
        ok = (syn == 0) | (keys[pos] == syn)
        flips = np.where(((syn != 0) & ok)[:, None], pats[pos], -1)  # (m, t) error positions
        cols = np.broadcast_to(np.arange(c.shape[1])[:, None], flips.shape)
        hit = flips >= 0
        c = c.copy()
        np.bitwise_xor.at(c, (flips[hit], cols[hit]), 1)
        return c[r:], ok

    def decode(self, word: np.ndarray) -> np.ndarray | None:
        """Correct up to ``t`` bit errors of a received ``[info | parity]`` word; ``None`` if it fails."""
        r = self.n_parity
        info_bits = self.n_info
        # codeword polynomial: parity at degrees 0..r-1, info at r..r+n_info-1 (shortened: rest zero)
        c = np.concatenate([word[info_bits:], word[:info_bits]]).astype(np.int64)
        synd = []
        for j in range(1, 2 * self.t + 1):
            s = 0
            for d in np.flatnonzero(c):
                s ^= int(self._exp[(j * d) % self._N])
            synd.append(s)
        if not any(synd):
            return word[:info_bits].copy()
        # Berlekamp-Massey over GF(2^m)
        C, B = [1], [1]
        L, mshift, b = 0, 1, 1
        for n_ in range(2 * self.t):
            d = synd[n_]
            for i in range(1, L + 1):
                if i < len(C):
                    d ^= self._mul(C[i], synd[n_ - i])
            if d == 0:
                mshift += 1
                continue
            coef = self._mul(d, self._inv(b))
            T = C[:]
            shifted = [0] * mshift + B
            C = C + [0] * max(0, len(shifted) - len(C))
            for i, v in enumerate(shifted):
                C[i] ^= self._mul(coef, v)
            if 2 * L <= n_:
                L, B, b, mshift = n_ + 1 - L, T, d, 1
            else:
                mshift += 1
        # Chien search over the (shortened) positions
        length = r + info_bits
        errors = []
        for pos in range(length):
            x_inv = int(self._exp[(self._N - pos) % self._N])
            val, xp = 0, 1
            for coef in C:
                val ^= self._mul(coef, xp)
                xp = self._mul(xp, x_inv)
            if val == 0:
                errors.append(pos)
        if len(errors) != L:
            return None
        c = c.copy()
        c[errors] ^= 1
        if any(int(v) for v in self._parity(c[r:]) ^ c[:r]):
            return None
        return c[r:]

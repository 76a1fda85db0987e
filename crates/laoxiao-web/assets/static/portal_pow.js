// The portal's proof of work (工作量证明, docs/complaints.md): find a nonce
// (decimal digits) such that SHA-256(challenge ‖ nonce) starts with `bits`
// zero bits, and put it in the form. Plain JavaScript SHA-256, so it works
// without a secure context; it runs in short slices so the page stays
// responsive, and it starts as soon as the page loads.
(function () {
  'use strict';
  var K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ]);
  var W = new Uint32Array(64);

  function ror(x, n) { return (x >>> n) | (x << (32 - n)); }

  // SHA-256 of an ASCII string, as eight 32-bit words.
  function sha256(str) {
    var l = str.length;
    var n = ((l + 9 + 63) >> 6) << 6;
    var buf = new Uint8Array(n);
    for (var i = 0; i < l; i++) { buf[i] = str.charCodeAt(i) & 0xff; }
    buf[l] = 0x80;
    var bits = l * 8;
    buf[n - 4] = (bits >>> 24) & 0xff; buf[n - 3] = (bits >>> 16) & 0xff;
    buf[n - 2] = (bits >>> 8) & 0xff; buf[n - 1] = bits & 0xff;
    var h0 = 0x6a09e667, h1 = 0xbb67ae85, h2 = 0x3c6ef372, h3 = 0xa54ff53a;
    var h4 = 0x510e527f, h5 = 0x9b05688c, h6 = 0x1f83d9ab, h7 = 0x5be0cd19;
    for (var off = 0; off < n; off += 64) {
      for (var t = 0; t < 16; t++) {
        var j = off + t * 4;
        W[t] = (buf[j] << 24) | (buf[j + 1] << 16) | (buf[j + 2] << 8) | buf[j + 3];
      }
      for (t = 16; t < 64; t++) {
        var w15 = W[t - 15], w2 = W[t - 2];
        var s0 = ror(w15, 7) ^ ror(w15, 18) ^ (w15 >>> 3);
        var s1 = ror(w2, 17) ^ ror(w2, 19) ^ (w2 >>> 10);
        W[t] = (W[t - 16] + s0 + W[t - 7] + s1) | 0;
      }
      var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
      for (t = 0; t < 64; t++) {
        var S1 = ror(e, 6) ^ ror(e, 11) ^ ror(e, 25);
        var ch = (e & f) ^ (~e & g);
        var t1 = (h + S1 + ch + K[t] + W[t]) | 0;
        var S0 = ror(a, 2) ^ ror(a, 13) ^ ror(a, 22);
        var maj = (a & b) ^ (a & c) ^ (b & c);
        var t2 = (S0 + maj) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0;
      h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + h) | 0;
    }
    return [h0 >>> 0, h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0, h5 >>> 0, h6 >>> 0, h7 >>> 0];
  }

  function zeroBits(words) {
    var z = 0;
    for (var i = 0; i < words.length; i++) {
      if (words[i] === 0) { z += 32; } else { return z + Math.clz32(words[i]); }
    }
    return z;
  }

  if (typeof module !== 'undefined' && module.exports) {
    module.exports = { sha256: sha256, zeroBits: zeroBits };
    return;
  }

  var form = document.getElementById('complaint-form');
  if (!form) { return; }
  var challenge = document.getElementById('pow-challenge').value;
  var nonceField = document.getElementById('pow-nonce');
  var status = document.getElementById('f-pow');
  var bits = parseInt(form.getAttribute('data-bits'), 10) || 0;
  var found = null;
  var waiting = false;
  var next = 0;
  status.textContent = status.getAttribute('data-working');

  function slice() {
    var end = next + 20000;
    for (; next < end; next++) {
      if (zeroBits(sha256(challenge + next)) >= bits) {
        found = String(next);
        nonceField.value = found;
        status.textContent = status.getAttribute('data-done');
        if (waiting) { form.submit(); }
        return;
      }
    }
    setTimeout(slice, 0);
  }
  form.addEventListener('submit', function (ev) {
    if (found === null) { ev.preventDefault(); waiting = true; }
  });
  setTimeout(slice, 0);
})();

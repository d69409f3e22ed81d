// tokensmith report: the token viewer. No libraries, no network; data comes from #viewer-data.
(function () {
  "use strict";
  var source = document.getElementById("viewer-data");
  var picker = document.getElementById("viewer-lang");
  var out = document.getElementById("viewer-output");
  if (!source || !picker || !out) return;
  var data = JSON.parse(source.textContent);
  var strict = new TextDecoder("utf-8", { fatal: true });
  // Whitespace drawn as visible glyphs so a token that is only a space or a newline can be seen.
  var VISIBLE = { " ": "\u2423", "\n": "\u21b5", "\t": "\u21e5", "\r": "\u240d" };

  function hexToBytes(hex) {
    var bytes = new Uint8Array(hex.length / 2);
    for (var i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.substr(i * 2, 2), 16);
    return bytes;
  }

  function spacedHex(hex) {
    return hex.replace(/(..)(?!$)/g, "$1 ");
  }

  // Controls are escaped: C0 ones are invisible, and bidi ones (U+202E...) would also reorder the tokens
  // drawn after them on the line, as a token's span does not end their effect.
  function visible(text) {
    return text.replace(/[ \n\t\r]/g, function (c) { return VISIBLE[c]; })
      .replace(/[\u0000-\u001f\u007f]/g, function (c) {
        return "\\x" + ("0" + c.charCodeAt(0).toString(16)).slice(-2);
      })
      .replace(/\p{Bidi_Control}/gu, function (c) { return "\\u" + c.charCodeAt(0).toString(16); });
  }

  // Length of the UTF-8 sequence a lead byte starts (1 for a stray continuation byte).
  function sequenceLength(lead) {
    if (lead >= 0xf0 && lead < 0xf8) return 4;
    if (lead >= 0xe0) return 3;
    if (lead >= 0xc0) return 2;
    return 1;
  }

  // For tokens whose bytes are not valid UTF-8 alone (byte-fallback pieces, or byte-level tokens
  // holding part of a multi-byte character), decode each run of such neighbours together. Each
  // character is shown once, on the piece holding its first byte, so the line still reads as the
  // sentence; a piece holding only continuation bytes shows a dot. Per token: null for whole
  // characters, else {shown, partOf} (shown "" when the piece starts no character).
  function pieces(tokens) {
    var texts = tokens.map(function (t) {
      try { return strict.decode(hexToBytes(t[1])); } catch (e) { return null; }
    });
    var parts = texts.map(function () { return null; });
    var i = 0;
    while (i < tokens.length) {
      if (texts[i] !== null) { i++; continue; }
      var j = i;
      while (j < tokens.length && texts[j] === null) j++;
      var bytes = [], owner = [];
      for (var k = i; k < j; k++) {
        parts[k] = { shown: "", partOf: "" };
        var own = hexToBytes(tokens[k][1]);
        for (var b = 0; b < own.length; b++) { bytes.push(own[b]); owner.push(k); }
      }
      var p = 0;
      while (p < bytes.length) {
        var n = Math.min(sequenceLength(bytes[p]), bytes.length - p);
        var ch;
        try { ch = strict.decode(new Uint8Array(bytes.slice(p, p + n))); } catch (e) { ch = null; }
        var last = -1;
        for (var q = p; q < p + n; q++) {
          var part = parts[owner[q]];
          if (ch === null) {
            if (owner[q] !== last) part.shown += "\u2039" + ("0" + bytes[q].toString(16)).slice(-2) + "\u203a";
          } else if (owner[q] !== last) {
            part.partOf += ch;
            if (q === p) part.shown += ch;
          }
          last = owner[q];
        }
        p += n;
      }
      i = j;
    }
    return { texts: texts, parts: parts };
  }

  function codepoints(text) {
    return Array.from(text).map(function (c) {
      return "U+" + c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0");
    }).join(" ");
  }

  // One token: its text (whitespace made visible), or for a piece of a character, that character in
  // a dashed box (its raw bytes when even its neighbours do not complete it).
  function tokenSpan(token, index, text, part) {
    var id = token[0], hex = token[1];
    var span = document.createElement("span");
    var classes = ["tok", index % 2 ? "t1" : "t0"];
    var tip = "id " + id + "\nbytes " + (hex ? spacedHex(hex) : "(none)");
    if (text === null) {
      classes.push("partial");
      span.textContent = part.shown ? visible(part.shown) : "\u00b7";
      tip += part.partOf ? "\npart of " + JSON.stringify(part.partOf) + " (" + codepoints(part.partOf) + ")"
        : "\nbytes that form no character";
      tip += "\n(byte fallback or a byte-level split)";
    } else {
      if (text.length && /^\s+$/.test(text)) classes.push("ws");
      span.textContent = text.length ? visible(text) : "\u2205";
      tip += "\ntext " + JSON.stringify(text);
    }
    span.className = classes.join(" ");
    span.title = tip;
    return span;
  }

  function render(index) {
    var sample = data.samples[index];
    out.textContent = "";
    if (!sample) return;
    sample.sentences.forEach(function (sentence, s) {
      var block = document.createElement("div");
      block.className = "sentence";
      var original = document.createElement("p");
      original.className = "original";
      original.dir = "auto";  // right-to-left scripts read in their own direction
      original.textContent = sentence;
      block.appendChild(original);
      out.appendChild(block);
      // Token lines read in the sentence's direction: escaped controls must not turn it (dir=auto would).
      var direction = getComputedStyle(original).direction;
      var grid = document.createElement("div");
      grid.className = "tok-grid";
      data.tokenizers.forEach(function (name) {
        var perSentence = sample.tokens[name];
        if (!perSentence) return;
        var tokens = perSentence[s];
        var row = document.createElement("div");
        row.className = "tok-row";
        row.setAttribute("data-tokenizer", name);
        var head = document.createElement("div");
        head.className = "tok-head";
        var bytes = 0;
        tokens.forEach(function (t) { bytes += t[1].length / 2; });
        head.textContent = name + " \u00b7 " + tokens.length + " tokens" +
          (tokens.length ? " \u00b7 " + (bytes / tokens.length).toFixed(2) + " bytes/token" : "");
        row.appendChild(head);
        var line = document.createElement("div");
        line.className = "tok-line";
        line.dir = direction;
        var decoded = pieces(tokens);
        tokens.forEach(function (t, i) { line.appendChild(tokenSpan(t, i, decoded.texts[i], decoded.parts[i])); });
        row.appendChild(line);
        grid.appendChild(row);
      });
      block.appendChild(grid);
    });
    out.setAttribute("data-sample", String(index));
  }

  picker.addEventListener("change", function () { render(Number(picker.value)); });
  render(Number(picker.value || 0));
})();

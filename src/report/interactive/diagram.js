// clocklab report.html: the interactive space-time diagrams. Each <div class="st"> holds its
// trial's events as JSON (written by src/report/interactive/mod.rs); this script draws them into
// the <svg> beside it, zooms and pans along time, and on a click rings the event's causal past and
// future from the vector clocks the JSON carries (a happened before b when b's vector clock counts
// a: V(b)[machine of a] >= a's number). The selection lives in the URL fragment:
// #run=R&trial=T&event=mK:N&pair=mJ:M&jumps=J (run 1 when omitted; jumps=J marks the clock
// jumps larger than J). Nothing is fetched.
(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  var W = 1000, LEFT = 90, RIGHT = 20, TOP = 34, ROW = 64, AXIS = 44;
  var FILL = { receive: '#0072B2', send: '#D55E00', broadcast: '#009E73', internal: '#ffffff' };

  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
    if (parent) { parent.appendChild(e); }
    return e;
  }

  function fragment() {
    var out = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (part) {
      var kv = part.split('=');
      if (kv.length === 2) { out[decodeURIComponent(kv[0])] = decodeURIComponent(kv[1]); }
    });
    return out;
  }

  function niceStep(span) {
    var raw = span / 8, p = Math.pow(10, Math.floor(Math.log10(raw)));
    var f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
  }

  function Diagram(root) {
    var d = JSON.parse(root.querySelector('.st-data').textContent);
    this.root = root;
    this.data = d;
    this.svg = root.querySelector('svg');
    this.panel = root.querySelector('.panel');
    this.events = [];
    this.byName = {};
    this.at = [];
    var self = this;
    d.machines.forEach(function (evs, m) {
      var prev = 0;
      self.at.push([]);
      evs.forEach(function (e, k) {
        var ev = {
          m: m, k: k, t: e[0], kind: e[1], lamport: e[2], sm: e[3], sk: e[4],
          hl: e[5], hc: e[6], vc: e[7], jump: e[2] - prev,
          name: 'm' + d.ids[m] + ':' + (k + 1)
        };
        prev = e[2];
        self.events.push(ev);
        self.at[m].push(ev);
        self.byName[ev.name] = ev;
      });
    });
    this.view = d.view.slice();
    this.first = d.view.slice();
    this.sel = null;
    this.pair = null;
    this.build();
    this.place();
    this.apply();
  }

  // a happened before b (never for a == b).
  Diagram.prototype.hb = function (a, b) {
    return a !== b && b.vc[a.m] >= a.k + 1;
  };

  Diagram.prototype.x = function (t) {
    return LEFT + (t - this.view[0]) / (this.view[1] - this.view[0]) * (W - LEFT - RIGHT);
  };
  Diagram.prototype.y = function (m) { return TOP + ROW * m + ROW / 2; };

  Diagram.prototype.build = function () {
    var self = this, d = this.data, n = d.ids.length;
    var height = TOP + ROW * n + AXIS;
    this.svg.setAttribute('viewBox', '0 0 ' + W + ' ' + height);
    var clipId = this.root.id + '-clip';
    var defs = el('defs', {}, this.svg);
    el('rect', { x: LEFT - 8, y: 0, width: W - LEFT - RIGHT + 16, height: height }, el('clipPath', { id: clipId }, defs));
    ['msg', 'causal'].forEach(function (kind) {
      var marker = el('marker', {
        id: self.root.id + '-' + kind, viewBox: '0 0 10 10', refX: 16, refY: 5,
        markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse'
      }, defs);
      el('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: kind === 'msg' ? '#8c959f' : '#8250df' }, marker);
    });
    el('rect', { x: 0, y: 0, width: W, height: height, fill: '#ffffff' }, this.svg);
    var plot = el('g', { 'clip-path': 'url(#' + clipId + ')' });
    for (var m = 0; m < n; m++) {
      el('line', { x1: LEFT, x2: W - RIGHT, y1: this.y(m), y2: this.y(m), stroke: '#d0d7de' }, this.svg);
      var label = el('text', { x: 8, y: this.y(m) + 4, 'font-size': 14, 'font-family': 'sans-serif' }, this.svg);
      label.textContent = 'machine ' + d.ids[m];
    }
    this.axis = el('g', { 'font-size': 11, 'font-family': 'sans-serif', fill: '#57606a' }, this.svg);
    this.svg.appendChild(plot);
    this.msgs = [];
    this.events.forEach(function (e) {
      var s = e.sm >= 0 && self.at[e.sm] ? self.at[e.sm][e.sk] : null;
      if (s) { self.msgs.push({ from: s, to: e, line: el('line', { 'class': 'msg' }, plot) }); }
    });
    this.events.forEach(function (e) {
      e.label = el('text', { 'font-size': 10, 'font-family': 'sans-serif', 'text-anchor': 'middle', fill: '#1d1d1f' }, plot);
      e.label.textContent = e.lamport;
      e.circle = el('circle', { 'class': 'ev', r: 6, fill: FILL[e.kind], 'data-ev': e.name }, plot);
      e.circle.addEventListener('click', function (ev) {
        if (self.moved) { return; }
        self.choose(e, ev.shiftKey);
      });
      var title = el('title', {}, e.circle);
      title.textContent = e.name + ' ' + e.kind + ', Lamport ' + e.lamport;
    });
    this.controls();
    this.pointer();
  };

  Diagram.prototype.controls = function () {
    var self = this, box = this.root.querySelector('.controls');
    function button(text, what, act) {
      var b = document.createElement('button');
      b.type = 'button';
      b.textContent = text;
      b.title = what;
      b.addEventListener('click', act);
      box.appendChild(b);
    }
    button('\u25c0', 'earlier', function () { self.pan(-0.25); });
    button('\u25b6', 'later', function () { self.pan(0.25); });
    button('+', 'zoom in', function () { self.zoom(0.5, 0.5); });
    button('\u2212', 'zoom out', function () { self.zoom(2, 0.5); });
    button('first view', this.data.why, function () { self.setView(self.first.slice()); });
    button('whole trial', 'the whole trial', function () {
      var s = self.data.span, pad = Math.max((s[1] - s[0]) * 0.03, 0.001);
      self.setView([s[0] - pad, s[1] + pad]);
    });
    var label = document.createElement('label');
    label.style.marginLeft = '1em';
    this.jumpBox = document.createElement('input');
    this.jumpBox.type = 'checkbox';
    this.jumpBox.className = 'jump-toggle';
    label.appendChild(this.jumpBox);
    label.appendChild(document.createTextNode(' mark clock jumps larger than '));
    this.jumpMin = document.createElement('input');
    this.jumpMin.type = 'number';
    this.jumpMin.min = '1';
    this.jumpMin.value = '5';
    this.jumpMin.style.width = '4em';
    label.appendChild(this.jumpMin);
    this.jumpCount = document.createElement('span');
    label.appendChild(this.jumpCount);
    box.appendChild(label);
    this.jumpBox.addEventListener('change', function () { self.apply(); });
    this.jumpMin.addEventListener('input', function () { self.apply(); });
    this.where = document.createElement('span');
    this.where.style.marginLeft = '1em';
    box.appendChild(this.where);
  };

  Diagram.prototype.pointer = function () {
    var self = this, svg = this.svg, start = null;
    function units(px) { return px * W / svg.getBoundingClientRect().width; }
    svg.addEventListener('pointerdown', function (ev) {
      start = { x: ev.clientX, view: self.view.slice() };
      self.moved = false;
    });
    svg.addEventListener('pointermove', function (ev) {
      if (!start) { return; }
      var dx = units(ev.clientX - start.x);
      if (Math.abs(dx) > 3) { self.moved = true; }
      if (!self.moved) { return; }
      var per = (start.view[1] - start.view[0]) / (W - LEFT - RIGHT);
      self.setView([start.view[0] - dx * per, start.view[1] - dx * per]);
    });
    window.addEventListener('pointerup', function () { start = null; });
    svg.addEventListener('wheel', function (ev) {
      ev.preventDefault();
      var r = svg.getBoundingClientRect();
      var at = (units(ev.clientX - r.left) - LEFT) / (W - LEFT - RIGHT);
      self.zoom(ev.deltaY > 0 ? 1.25 : 0.8, Math.min(Math.max(at, 0), 1));
    }, { passive: false });
  };

  Diagram.prototype.setView = function (v) {
    if (!(v[1] - v[0] > 1e-6)) { return; }
    this.view = v;
    this.place();
  };
  Diagram.prototype.pan = function (share) {
    var w = this.view[1] - this.view[0];
    this.setView([this.view[0] + w * share, this.view[1] + w * share]);
  };
  Diagram.prototype.zoom = function (factor, at) {
    var w = this.view[1] - this.view[0], c = this.view[0] + w * at;
    this.setView([c - (c - this.view[0]) * factor, c + (this.view[1] - c) * factor]);
  };

  // Positions every mark for the current view.
  Diagram.prototype.place = function () {
    var self = this, v = this.view, visible = 0;
    this.events.forEach(function (e) {
      var x = self.x(e.t), y = self.y(e.m);
      e.circle.setAttribute('cx', x.toFixed(1));
      e.circle.setAttribute('cy', y);
      e.label.setAttribute('x', x.toFixed(1));
      e.label.setAttribute('y', y - 10);
      if (e.t >= v[0] && e.t <= v[1]) { visible++; }
    });
    var labels = visible <= 120 ? 'visible' : 'hidden';
    this.events.forEach(function (e) { e.label.setAttribute('visibility', labels); });
    this.msgs.forEach(function (g) {
      g.line.setAttribute('x1', self.x(g.from.t).toFixed(1));
      g.line.setAttribute('y1', self.y(g.from.m));
      g.line.setAttribute('x2', self.x(g.to.t).toFixed(1));
      g.line.setAttribute('y2', self.y(g.to.m));
    });
    while (this.axis.firstChild) { this.axis.removeChild(this.axis.firstChild); }
    var step = niceStep(v[1] - v[0]), bottom = TOP + ROW * this.data.ids.length;
    for (var t = Math.ceil(v[0] / step) * step; t <= v[1]; t += step) {
      var x = this.x(t);
      el('line', { x1: x, x2: x, y1: bottom, y2: bottom + 5, stroke: '#57606a' }, this.axis);
      var text = el('text', { x: x, y: bottom + 17, 'text-anchor': 'middle' }, this.axis);
      text.textContent = +t.toFixed(6);
    }
    var caption = el('text', { x: (LEFT + W - RIGHT) / 2, y: bottom + 35, 'text-anchor': 'middle' }, this.axis);
    caption.textContent = 'time since the trial\u2019s start (s)';
    this.where.textContent = 'showing ' + v[0].toFixed(3) + ' s to ' + v[1].toFixed(3) +
      ' s, ' + visible + ' of ' + this.events.length + ' events';
  };

  Diagram.prototype.choose = function (e, shift) {
    if (shift && this.sel && e !== this.sel) {
      this.pair = e;
    } else {
      this.sel = e;
      this.pair = null;
    }
    this.apply();
    var f = (this.data.run > 1 ? 'run=' + this.data.run + '&' : '') + 'trial=' + this.data.trial +
      '&event=' + this.sel.name + (this.pair ? '&pair=' + this.pair.name : '') +
      (this.jumpBox.checked ? '&jumps=' + this.jumpMin.value : '');
    try { history.replaceState(null, '', '#' + f); } catch (err) { location.hash = f; }
  };

  // Sets every mark's classes from the selection and the jump toggle, and fills the panel.
  Diagram.prototype.apply = function () {
    var self = this, s = this.sel, past = 0, future = 0, conc = 0, jumps = 0;
    var min = Number(this.jumpMin.value), mark = this.jumpBox.checked;
    this.events.forEach(function (e) {
      var c = ['ev'];
      if (s) {
        if (e === s) { c.push('sel'); }
        else if (self.hb(e, s)) { c.push('past'); past++; }
        else if (self.hb(s, e)) { c.push('future'); future++; }
        else { c.push('conc'); conc++; }
      }
      if (e === self.pair) { c.push('pair'); }
      if (mark && e.jump > min) { c.push('jump'); jumps++; }
      e.circle.setAttribute('class', c.join(' '));
    });
    this.msgs.forEach(function (g) {
      var before = s && (g.to === s || self.hb(g.to, s));
      var after = s && (g.from === s || self.hb(s, g.from));
      var kind = before || after ? 'causal' : 'msg';
      g.line.setAttribute('class', kind === 'causal' ? 'msg causal' : 'msg');
      g.line.setAttribute('marker-end', 'url(#' + self.root.id + '-' + kind + ')');
    });
    this.jumpCount.textContent = mark ? ' (' + jumps + ' marked)' : '';
    if (!s) { return; }
    var p = this.panel;
    p.textContent = '';
    function line(html) { var d = document.createElement('div'); d.innerHTML = html; p.appendChild(d); return d; }
    var ids = this.data.ids;
    line('<strong>' + s.name + '</strong>: machine ' + ids[s.m] + '\u2019s event ' + (s.k + 1) +
      ' (line ' + (s.k + 2) + ' of machine-' + ids[s.m] + '.csv), a ' + s.kind + ' at ' +
      s.t.toFixed(6) + ' s');
    line('Lamport clock <code>' + s.lamport + '</code> (jump ' + s.jump + ') \u00b7 vector clock <code>[' +
      s.vc.join(', ') + ']</code> (machines ' + ids.join(', ') + ') \u00b7 hybrid logical clock <code>(l = ' +
      s.hl + ' \u00b5s, c = ' + s.hc + ')</code>: l is ' + ((s.hl - this.data.start_us) / 1e6).toFixed(6) +
      ' s after the trial\u2019s start, ' + ((s.hl - this.data.start_us) / 1e3 - s.t * 1e3).toFixed(3) +
      ' ms ahead of the event\u2019s own time');
    line('<span class="counts">causal past: ' + past + ' events (ringed purple) \u00b7 causal future: ' +
      future + ' (ringed amber) \u00b7 concurrent: ' + conc + ' (faded)</span>');
    if (this.pair) { line(this.relation(s, this.pair)).className = 'relation'; }
  };

  Diagram.prototype.relation = function (a, b) {
    if (this.hb(a, b)) {
      return a.name + ' happened before ' + b.name + ' (Lamport ' + a.lamport + ' < ' + b.lamport + ', as it must be).';
    }
    if (this.hb(b, a)) {
      return b.name + ' happened before ' + a.name + ' (Lamport ' + b.lamport + ' < ' + a.lamport + ', as it must be).';
    }
    var text = a.name + ' and ' + b.name + ' are concurrent: neither happened before the other. ';
    if (a.lamport === b.lamport) {
      return text + 'Their Lamport clocks are equal (' + a.lamport + '), so Lamport order does not order them either.';
    }
    var lo = a.lamport < b.lamport ? a : b, hi = lo === a ? b : a;
    return text + 'Yet their Lamport clocks order them (' + lo.name + ' ' + lo.lamport + ' < ' + hi.name + ' ' +
      hi.lamport + '): a false ordering.';
  };

  // Selects what the URL fragment names, if it names this diagram's trial.
  Diagram.prototype.restore = function () {
    var f = fragment();
    if (Number(f.run || 1) !== this.data.run || Number(f.trial) !== this.data.trial) { return; }
    if (f.jumps && Number(f.jumps) >= 0) {
      this.jumpBox.checked = true;
      this.jumpMin.value = f.jumps;
      this.apply();
    }
    if (!f.event) { return; }
    var e = this.byName[f.event];
    if (!e) {
      this.panel.textContent = 'The link names ' + f.event + ', which this trial does not have: events are ' +
        'mK:N, machine K (' + this.data.ids.join(', ') + ') and its N-th event from 1.';
      return;
    }
    this.sel = e;
    this.pair = f.pair ? this.byName[f.pair] || null : null;
    if (e.t < this.view[0] || e.t > this.view[1]) {
      var w = this.view[1] - this.view[0];
      this.setView([e.t - w / 2, e.t + w / 2]);
    }
    this.apply();
    this.root.scrollIntoView();
  };

  var all = [];
  document.querySelectorAll('div.st').forEach(function (root) {
    var d = new Diagram(root);
    all.push(d);
    d.restore();
  });
  window.addEventListener('hashchange', function () { all.forEach(function (d) { d.restore(); }); });
})();

// laoxiao console: maps (ECharts over the embedded GeoJSON) and small helpers.
// No build step; runs after the DOM is parsed (loaded with defer).
(function () {
  "use strict";

  var COLOURS = ["#e8f1fa", "#b3d1ee", "#6fa8dc", "#2f78c4", "#0b3d6e"];

  function loadGeo(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); });
  }

  function extent(values) {
    var v = values.filter(function (x) { return typeof x === "number" && isFinite(x); });
    if (!v.length) return [0, 1];
    var lo = Math.min.apply(null, v), hi = Math.max.apply(null, v);
    if (lo === hi) hi = lo + 1;
    return [lo, hi];
  }

  function pointSeries(data, points, elderly, name, colour) {
    return {
      type: "scatter", coordinateSystem: "geo", name: name, symbolSize: 5, z: 5,
      itemStyle: { color: colour, opacity: 0.75, borderColor: "#fff", borderWidth: 0.5 },
      data: points.filter(function (p) { return p.elderly === elderly; }).map(function (p) {
        return { name: p.name, value: [p.lng, p.lat], id: p.id, kind: data.kinds[p.kind] || p.kind };
      }),
      tooltip: { formatter: function (p) { return esc(p.data.name) + "<br>" + esc(p.data.kind); } }
    };
  }

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function overview(el, data) {
    loadGeo(data.geo_url).then(function (geo) {
      var city = data.level === "city";
      var feats = geo.features.filter(function (f) {
        var c = f.properties.code;
        return city ? c !== "330400" : c === data.county;
      });
      echarts.registerMap("laoxiao-overview", { type: "FeatureCollection", features: feats });
      var names = {};
      geo.features.forEach(function (f) { names[f.properties.code] = f.properties.name; });
      var chart = echarts.init(el, null, { renderer: "canvas" });
      var select = document.getElementById("map-figure");

      function figureLabel(key) {
        var f = data.figures.filter(function (x) { return x.key === key; })[0];
        return f ? f.label : key;
      }

      function option(key) {
        var values = data.children.map(function (c) { return c.values[key]; });
        var ext = extent(values);
        var shaded;
        if (city) {
          shaded = {
            type: "map", geoIndex: 0, name: figureLabel(key),
            data: data.children.map(function (c) { return { name: c.code, value: c.values[key], label: c.name }; })
          };
        } else {
          shaded = {
            type: "scatter", coordinateSystem: "geo", name: figureLabel(key), symbolSize: 16, z: 4,
            itemStyle: { borderColor: "#333", borderWidth: 0.6 },
            data: data.children.filter(function (c) { return c.centre; }).map(function (c) {
              return { name: c.name, value: [c.centre[0], c.centre[1], c.values[key]], code: c.code };
            }),
            encode: { value: 2 }
          };
        }
        return {
          tooltip: {
            trigger: "item",
            formatter: function (p) {
              if (p.seriesIndex === 0) {
                var v = city ? p.value : (p.value && p.value[2]);
                var n = city ? (names[p.name] || p.name) : p.name;
                var shown = (v === null || v === undefined || isNaN(v)) ? data.labels.no_data : Number(v).toLocaleString();
                return esc(n) + "<br>" + esc(figureLabel(key)) + ": " + esc(shown);
              }
              return esc(p.data.name) + "<br>" + esc(p.data.kind);
            }
          },
          legend: { bottom: 8, right: 10, data: [data.labels.elderly_points, data.labels.childcare_points] },
          visualMap: {
            type: "continuous", seriesIndex: 0, min: ext[0], max: ext[1], calculable: true,
            left: 10, bottom: 10, text: [figureLabel(key), ""], inRange: { color: COLOURS },
            outOfRange: { color: "#eeeeee" }, dimension: city ? undefined : 2
          },
          geo: {
            map: "laoxiao-overview", roam: true, nameProperty: "code",
            layoutCenter: ["50%", "50%"], layoutSize: "95%",
            center: (!city && data.centre && data.level !== "county") ? data.centre : undefined,
            zoom: (!city && data.centre && data.level !== "county") ? 3 : 1,
            itemStyle: { areaColor: "#f1f4f7", borderColor: "#5a6775", borderWidth: 1 },
            emphasis: { itemStyle: { areaColor: "#ffe9a8" }, label: { show: true } },
            // A light halo keeps the names readable on the darkest shades and over points.
            label: {
              show: city, formatter: function (p) { return names[p.name] || ""; }, fontSize: 12, fontWeight: 600,
              color: "#1d2733", textBorderColor: "#fff", textBorderWidth: 3
            },
            select: { disabled: true }
          },
          series: [
            shaded,
            pointSeries(data, data.points, true, data.labels.elderly_points, "#c0392b"),
            pointSeries(data, data.points, false, data.labels.childcare_points, "#16803c")
          ]
        };
      }

      chart.setOption(option(data.figure));
      chart.on("click", function (p) {
        if (p.seriesIndex === 0) {
          var code = city ? p.name : (p.data && p.data.code);
          if (code) window.location.href = "/?area=" + encodeURIComponent(code) + "&figure=" + encodeURIComponent(select ? select.value : data.figure);
        } else if (p.data && p.data.id) {
          window.location.href = "/console/facilities/" + encodeURIComponent(p.data.id);
        }
      });
      if (select) {
        select.addEventListener("change", function () {
          chart.setOption(option(select.value), { replaceMerge: ["series"] });
          var u = new URL(window.location.href);
          u.searchParams.set("figure", select.value);
          window.history.replaceState(null, "", u.toString());
        });
      }
      window.addEventListener("resize", function () { chart.resize(); });
      el.setAttribute("data-ready", "true");
    }).catch(function () { el.setAttribute("data-ready", "error"); });
  }

  function detail(el, data) {
    loadGeo(data.geo_url).then(function (geo) {
      var feats = geo.features.filter(function (f) { return f.properties.code === data.county; });
      echarts.registerMap("laoxiao-detail", { type: "FeatureCollection", features: feats });
      var at = data.point || data.centre;
      var chart = echarts.init(el);
      chart.setOption({
        geo: {
          map: "laoxiao-detail", roam: true, center: at || undefined, zoom: at ? 2.5 : 1,
          itemStyle: { areaColor: "#f1f4f7", borderColor: "#5a6775" }, select: { disabled: true },
          emphasis: { disabled: true }
        },
        series: at ? [{
          type: "scatter", coordinateSystem: "geo", symbolSize: data.point ? 14 : 22,
          symbol: data.point ? "pin" : "circle",
          itemStyle: { color: data.point ? "#c0392b" : "rgba(11,92,173,.35)" },
          data: [{ name: data.name, value: at }]
        }] : []
      });
      window.addEventListener("resize", function () { chart.resize(); });
      el.setAttribute("data-ready", "true");
    }).catch(function () { el.setAttribute("data-ready", "error"); });
  }


  // An indicator's trend: values by year, the 2020 baseline and the targets.
  function indicatorTrend(el, data) {
    var chart = echarts.init(el, null, { renderer: "canvas" });
    var years = [];
    for (var y = 2020; y <= 2025; y++) years.push(String(y));
    data.trend.forEach(function (p) { if (years.indexOf(p[0]) < 0) years.push(p[0]); });
    var values = years.map(function (y) {
      var p = data.trend.filter(function (q) { return q[0] === y; })[0];
      return p ? p[1] : null;
    });
    var marks = [];
    if (data.baseline !== null) marks.push(["2020", data.baseline, data.labels.baseline]);
    if (data.t2022 !== null) marks.push(["2022", data.t2022, data.labels.target + " 2022"]);
    if (data.t2025 !== null) marks.push(["2025", data.t2025, data.labels.target + " 2025"]);
    chart.setOption({
      tooltip: { trigger: "item" },
      legend: { bottom: 0, data: [data.labels.value, data.labels.target] },
      grid: { left: 60, right: 20, top: 20, bottom: 50 },
      xAxis: { type: "category", data: years },
      yAxis: { type: "value", name: data.unit || "" },
      series: [
        { type: "line", name: data.labels.value, data: values, connectNulls: true, symbolSize: 8, itemStyle: { color: "#0b5cad" } },
        { type: "scatter", name: data.labels.target, symbol: "diamond", symbolSize: 14, itemStyle: { color: "#b35900" },
          data: marks.map(function (m) { return { value: [m[0], m[1]], name: m[2] }; }),
          tooltip: { formatter: function (p) { return esc(p.data.name) + ": " + esc(p.data.value[1]); } } }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
    el.setAttribute("data-ready", "true");
  }

  // One indicator across the child areas: counties shaded at city level,
  // children's centres elsewhere.
  function indicatorMap(el, data) {
    loadGeo(data.geo_url).then(function (geo) {
      var city = data.level === "city";
      var feats = geo.features.filter(function (f) {
        var c = f.properties.code;
        return city ? c !== "330400" : c === data.county;
      });
      echarts.registerMap("laoxiao-indicator", { type: "FeatureCollection", features: feats });
      var names = {};
      geo.features.forEach(function (f) { names[f.properties.code] = f.properties.name; });
      var ext = extent(data.children.map(function (c) { return c.value; }));
      var chart = echarts.init(el, null, { renderer: "canvas" });
      var shaded = city ? {
        type: "map", geoIndex: 0, name: data.title,
        data: data.children.map(function (c) { return { name: c.code, value: c.value }; })
      } : {
        type: "scatter", coordinateSystem: "geo", name: data.title, symbolSize: 16,
        itemStyle: { borderColor: "#333", borderWidth: 0.6 },
        data: data.children.filter(function (c) { return c.centre; }).map(function (c) {
          return { name: c.name, value: [c.centre[0], c.centre[1], c.value], code: c.code };
        }),
        encode: { value: 2 }
      };
      chart.setOption({
        tooltip: { trigger: "item", formatter: function (p) {
          var v = city ? p.value : (p.value && p.value[2]);
          var n = city ? (names[p.name] || p.name) : p.name;
          var shown = (v === null || v === undefined || isNaN(v)) ? data.labels.no_data : Number(v).toLocaleString();
          return esc(n) + "<br>" + esc(shown);
        } },
        visualMap: { type: "continuous", seriesIndex: 0, min: ext[0], max: ext[1], calculable: true, left: 10, bottom: 10,
          inRange: { color: COLOURS }, outOfRange: { color: "#eeeeee" }, dimension: city ? undefined : 2 },
        geo: { map: "laoxiao-indicator", roam: true, nameProperty: "code", layoutCenter: ["50%", "50%"], layoutSize: "95%",
          itemStyle: { areaColor: "#f1f4f7", borderColor: "#5a6775", borderWidth: 1 },
          label: { show: city, formatter: function (p) { return names[p.name] || ""; }, fontSize: 12, fontWeight: 600,
            color: "#1d2733", textBorderColor: "#fff", textBorderWidth: 3 },
          select: { disabled: true } },
        series: [shaded]
      });
      window.addEventListener("resize", function () { chart.resize(); });
      el.setAttribute("data-ready", "true");
    }).catch(function () { el.setAttribute("data-ready", "error"); });
  }

  function startIndicator() {
    var dataEl = document.getElementById("indicator-chart");
    if (!dataEl || !window.echarts) return;
    var data = JSON.parse(dataEl.textContent);
    var t = document.getElementById("indicator-trend");
    var m = document.getElementById("indicator-map");
    if (t) indicatorTrend(t, data);
    if (m && data.children.length) indicatorMap(m, data);
  }

  // The what-if's month-by-month chart: baseline and reform as two lines, drawn
  // as SVG (no library); the table beside it holds the same figures.
  var SVGNS = "http://www.w3.org/2000/svg";
  function svgEl(name, attrs, text) {
    var e = document.createElementNS(SVGNS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function yuanShort(fen, en) {
    var y = fen / 100;
    if (en) {
      if (Math.abs(y) >= 1e6) return +(y / 1e6).toFixed(2) + "M";
      if (Math.abs(y) >= 1e3) return +(y / 1e3).toFixed(2) + "k";
      return String(+y.toFixed(2));
    }
    if (Math.abs(y) >= 1e8) return +(y / 1e8).toFixed(2) + "亿";
    if (Math.abs(y) >= 1e4) return +(y / 1e4).toFixed(2) + "万";
    return String(+y.toFixed(2));
  }
  // Round tick steps (1, 2, 5 × 10^n) covering [min, max] in about four steps.
  function ticks(min, max) {
    if (max === min) max = min + 100;
    var raw = (max - min) / 4;
    var p = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (m) { return m * p; }).filter(function (s) { return s >= raw; })[0];
    var lo = Math.floor(min / step) * step, hi = Math.ceil(max / step) * step;
    var out = [];
    for (var v = lo; v <= hi + step / 2; v += step) out.push(v);
    return out;
  }
  // One panel: an axis with round ticks, month labels, then lines or bars.
  function panel(svg, o) {
    var t = ticks(o.min, o.max), lo = t[0], hi = t[t.length - 1];
    var n = o.months.length, bw = (o.W - o.L - o.R) / n;
    var x = function (i) { return o.L + bw * (i + 0.5); };
    var y = function (v) { return o.T + o.H * (1 - (v - lo) / (hi - lo)); };
    t.forEach(function (v) {
      svg.appendChild(svgEl("line", { x1: o.L, x2: o.W - o.R, y1: y(v), y2: y(v), "class": v === 0 ? "grid zero" : "grid" }));
      svg.appendChild(svgEl("text", { x: o.L - 6, y: y(v) + 4, "text-anchor": "end", "class": "tick" }, yuanShort(v, o.en)));
    });
    o.months.forEach(function (m, i) {
      svg.appendChild(svgEl("text", { x: x(i), y: o.T + o.H + 16, "text-anchor": "middle", "class": "tick" }, m.slice(5)));
    });
    svg.appendChild(svgEl("text", { x: o.L, y: o.T - 8, "class": "legend" }, o.title));
    return { x: x, y: y, bw: bw };
  }
  function whatifChart(el, data) {
    var n = data.months.length;
    if (!n) return;
    var W = 640, L = 72, R = 16;
    var diff = data.reform.map(function (v, i) { return v - data.baseline[i]; });
    var svg = svgEl("svg", { viewBox: "0 0 " + W + " 470", role: "img", "aria-labelledby": "whatif-svg-title", focusable: "false" });
    svg.appendChild(svgEl("title", { id: "whatif-svg-title" }, data.labels.baseline + " / " + data.labels.reform + " / " + data.labels.difference));
    // Top: baseline and reform.
    var all = data.baseline.concat(data.reform, [0]);
    var a = panel(svg, { W: W, L: L, R: R, T: 40, H: 200, en: data.lang === "en", months: data.months, min: Math.min.apply(null, all), max: Math.max.apply(null, all), title: data.labels.baseline + " · " + data.labels.reform });
    [["baseline", data.baseline], ["reform", data.reform]].forEach(function (s) {
      var pts = s[1].map(function (v, i) { return a.x(i) + "," + a.y(v); }).join(" ");
      svg.appendChild(svgEl("polyline", { points: pts, "class": "series " + s[0] }));
      s[1].forEach(function (v, i) {
        var c = s[0] === "baseline"
          ? svgEl("circle", { cx: a.x(i), cy: a.y(v), r: 4, "class": "dot baseline" })
          : svgEl("rect", { x: a.x(i) - 3, y: a.y(v) - 3, width: 6, height: 6, "class": "dot reform" });
        c.appendChild(svgEl("title", {}, data.months[i] + " " + data.labels[s[0]] + ": " + (v / 100).toFixed(2)));
        svg.appendChild(c);
      });
    });
    var lx = W - R - 260;
    [["baseline", data.labels.baseline], ["reform", data.labels.reform]].forEach(function (s) {
      svg.appendChild(svgEl("line", { x1: lx, x2: lx + 22, y1: 28, y2: 28, "class": "series " + s[0] }));
      svg.appendChild(svgEl("text", { x: lx + 28, y: 32, "class": "legend" }, s[1]));
      lx += 130;
    });
    // Bottom: the difference, as bars from zero.
    var b = panel(svg, { W: W, L: L, R: R, T: 310, H: 120, en: data.lang === "en", months: data.months, min: Math.min.apply(null, diff.concat([0])), max: Math.max.apply(null, diff.concat([0])), title: data.labels.difference });
    diff.forEach(function (v, i) {
      var y0 = b.y(0), y1 = b.y(v);
      var r = svgEl("rect", { x: b.x(i) - b.bw * 0.3, y: Math.min(y0, y1), width: b.bw * 0.6, height: Math.max(1, Math.abs(y1 - y0)), "class": v < 0 ? "bar down" : "bar up" });
      r.appendChild(svgEl("title", {}, data.months[i] + " " + data.labels.difference + ": " + (v / 100).toFixed(2)));
      svg.appendChild(r);
    });
    el.appendChild(svg);
    el.setAttribute("data-ready", "true");
  }

  function startWhatif() {
    var dataEl = document.getElementById("whatif-data");
    var el = document.getElementById("whatif-chart");
    if (!dataEl || !el) return;
    whatifChart(el, JSON.parse(dataEl.textContent));
  }

  function start() {
    startWhatif();
    startIndicator();
    var dataEl = document.getElementById("map-data");
    if (!dataEl || !window.echarts) return;
    var data = JSON.parse(dataEl.textContent);
    // The facility points come apart from the rest (made once per facility version).
    var pointsEl = document.getElementById("map-points");
    if (pointsEl) data.points = JSON.parse(pointsEl.textContent);
    var ov = document.getElementById("overview-map");
    var dm = document.getElementById("detail-map");
    if (ov) overview(ov, data);
    if (dm) detail(dm, data);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  // After a form with errors is shown, move focus to the error summary.
  document.addEventListener("DOMContentLoaded", function () {
    var e = document.getElementById("form-errors");
    if (e) e.focus();
  });

  // Buttons that ask first (data-confirm: the question). A listener, not an inline
  // onclick: the Content-Security-Policy (script-src 'self') blocks inline handlers.
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("[data-confirm]");
    if (b && !window.confirm(b.getAttribute("data-confirm"))) ev.preventDefault();
  });

  // Print buttons (data-print: the assessment report), for the same reason.
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("[data-print]");
    if (b) window.print();
  });
})();

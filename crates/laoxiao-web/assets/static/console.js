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
  function yuanShort(fen) {
    var y = fen / 100;
    if (Math.abs(y) >= 1e8) return (y / 1e8).toFixed(2) + "亿";
    if (Math.abs(y) >= 1e4) return (y / 1e4).toFixed(1) + "万";
    return y.toFixed(0);
  }
  function whatifChart(el, data) {
    var W = 640, H = 300, L = 70, R = 16, T = 16, B = 56;
    var n = data.months.length;
    if (!n) return;
    var all = data.baseline.concat(data.reform);
    var max = Math.max.apply(null, all.concat([0]));
    var min = Math.min.apply(null, all.concat([0]));
    if (max === min) max = min + 100;
    var x = function (i) { return L + (n === 1 ? (W - L - R) / 2 : i * (W - L - R) / (n - 1)); };
    var y = function (v) { return T + (H - T - B) * (1 - (v - min) / (max - min)); };
    var svg = svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-labelledby": "whatif-svg-title", focusable: "false" });
    svg.appendChild(svgEl("title", { id: "whatif-svg-title" }, data.labels.baseline + " / " + data.labels.reform));
    for (var k = 0; k <= 4; k++) {
      var v = min + (max - min) * k / 4;
      svg.appendChild(svgEl("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), "class": "grid" }));
      svg.appendChild(svgEl("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", "class": "tick" }, yuanShort(v)));
    }
    data.months.forEach(function (m, i) {
      svg.appendChild(svgEl("text", { x: x(i), y: H - B + 18, "text-anchor": "middle", "class": "tick" }, m.slice(5)));
    });
    var series = [["baseline", data.baseline], ["reform", data.reform]];
    series.forEach(function (s) {
      var pts = s[1].map(function (v, i) { return x(i) + "," + y(v); }).join(" ");
      svg.appendChild(svgEl("polyline", { points: pts, "class": "series " + s[0], fill: "none" }));
      s[1].forEach(function (v, i) {
        var c = svgEl(s[0] === "baseline" ? "circle" : "rect", s[0] === "baseline"
          ? { cx: x(i), cy: y(v), r: 3.5, "class": "dot " + s[0] }
          : { x: x(i) - 3.5, y: y(v) - 3.5, width: 7, height: 7, "class": "dot " + s[0] });
        c.appendChild(svgEl("title", {}, data.months[i] + " " + data.labels[s[0]] + ": " + (v / 100).toFixed(2)));
        svg.appendChild(c);
      });
    });
    // The legend, below the axis.
    var lx = L;
    series.forEach(function (s) {
      svg.appendChild(svgEl("line", { x1: lx, x2: lx + 24, y1: H - 12, y2: H - 12, "class": "series " + s[0] }));
      svg.appendChild(svgEl("text", { x: lx + 30, y: H - 8, "class": "legend" }, data.labels[s[0]]));
      lx += 200;
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
})();

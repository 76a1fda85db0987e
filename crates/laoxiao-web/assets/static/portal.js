// The place search's small helpers (the page works without them): "use my
// location" fills the point from the browser, and a tap on the map picks the
// point there (sent as the map's metres; the server turns them into a point).
(function () {
  "use strict";
  var form = document.getElementById("place-search");
  if (!form) return;
  var lng = document.getElementById("ps-lng");
  var lat = document.getElementById("ps-lat");
  var x = document.getElementById("ps-x");
  var y = document.getElementById("ps-y");
  var locate = document.getElementById("ps-locate");
  if (locate && navigator.geolocation) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        lng.value = pos.coords.longitude.toFixed(5);
        lat.value = pos.coords.latitude.toFixed(5);
        x.value = "";
        y.value = "";
        form.submit();
      });
    });
  }
  var svg = document.querySelector("#places-map svg");
  if (svg && svg.createSVGPoint) {
    svg.style.cursor = "crosshair";
    svg.addEventListener("click", function (ev) {
      var m = svg.getScreenCTM();
      if (!m) return;
      var p = svg.createSVGPoint();
      p.x = ev.clientX;
      p.y = ev.clientY;
      var at = p.matrixTransform(m.inverse());
      lng.value = "";
      lat.value = "";
      x.value = Math.round(at.x);
      y.value = Math.round(-at.y);
      form.submit();
    });
  }
})();

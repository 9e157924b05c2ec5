// genbook: set-up for the vendored ipywidgets manager, loaded before require.js on pages with widgets.
(function () {
  var here = document.currentScript.src.replace(/[^/?#]*([?#].*)?$/, "");
  // require.js reads a global `require` object as its configuration. The widget manager's modules are
  // defined inside embed-amd.js (nothing is fetched), but webpack finds the manager's icon fonts (beside
  // embed-amd.js) through their module URLs: map the module names to this folder.
  window.require = {
    paths: {
      "@jupyter-widgets/html-manager/dist": here.slice(0, -1),
      "@jupyter-widgets": here.slice(0, -1)
    }
  };
  // ipywidgets 8 typesets widget labels with MathJax 2's `MathJax.Hub.Queue`; the book ships MathJax 3.
  function shim() {
    var mj = window.MathJax;
    if (!mj || mj.Hub || !mj.typesetPromise) return;
    mj.Hub = {
      Queue: function () {
        var elements = [];
        for (var i = 0; i < arguments.length; i++) {
          var a = arguments[i];
          if (Array.isArray(a) && a[0] === "Typeset" && a[2]) elements.push(a[2]);
        }
        if (elements.length) mj.typesetPromise(elements).catch(function () {});
      }
    };
  }
  if (document.readyState === "complete") shim();
  else window.addEventListener("load", shim);
})();

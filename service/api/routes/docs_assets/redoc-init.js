// ReDoc's side menu always shows a logo from cdn.redoc.ly. Point that image at our own
// favicon, so the page asks no other host for anything (the CSP would block the request
// and log an error). React may set an image's source as an attribute or as a property.
(function () {
  var outsideLogo = "https://cdn.redoc.ly/redoc/logo-mini.svg";
  function ownLogo(value) {
    return value === outsideLogo
      ? document.querySelector("redoc").getAttribute("data-logo-url")
      : value;
  }
  var setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    var own = this.tagName === "IMG" && name === "src" ? ownLogo(value) : value;
    return setAttribute.call(this, name, own);
  };
  var src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    configurable: true,
    enumerable: src.enumerable,
    get: src.get,
    set: function (value) {
      src.set.call(this, ownLogo(value));
    },
  });
})();

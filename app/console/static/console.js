// The console's only script: confirmations, copy buttons and the photo count. Pages work
// without it (every action is a plain form post).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    var tooMany = Array.prototype.some.call(form.querySelectorAll("input[data-max-files]"), function (input) {
      return input.files && input.files.length > Number(input.getAttribute("data-max-files"));
    });
    if (tooMany) {
      event.preventDefault();
      window.alert("最多只能上传 9 张照片");
    }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    field.select();
    var done = function () { button.textContent = "已复制"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });
})();

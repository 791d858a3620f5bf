// The demo host page's own script: switches the widget's language through its init call.
'use strict';
(() => {
  const select = document.getElementById('lang');
  if (!select || !window.FeedbackWidget) return;
  select.addEventListener('change', () => {
    document.documentElement.lang = select.value;
    window.FeedbackWidget.init({ lang: select.value });
  });
})();

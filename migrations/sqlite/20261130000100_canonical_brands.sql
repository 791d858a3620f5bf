-- Canonical browser brands: rows stored before the brand was mapped kept the parser's family,
-- which can name the operating system or device ("Chrome Mobile iOS", "Firefox iOS",
-- "Chrome Mobile WebView", "Mobile Safari"). Rewrite them to the brand alone, as
-- `useragent::canonical_brand` does; a family that is no listed brand becomes 'Other' without
-- a version. Safe to run again: canonical rows are left as they are.
UPDATE submissions
SET browser_brand = CASE
        WHEN browser_brand IN ('Chrome Mobile', 'Chrome Mobile iOS', 'Chrome Mobile WebView',
                               'Chrome Frame', 'Chromium', 'HeadlessChrome') THEN 'Chrome'
        WHEN browser_brand LIKE 'Firefox %' THEN 'Firefox'
        WHEN browser_brand IN ('Mobile Safari', 'Mobile Safari UI/WKWebView') THEN 'Safari'
        WHEN browser_brand = 'Edge Mobile' THEN 'Edge'
        WHEN browser_brand LIKE 'Opera %' THEN 'Opera'
        WHEN browser_brand = 'DuckDuckGo Mobile' THEN 'DuckDuckGo'
        WHEN browser_brand IN ('IE', 'IE Mobile', 'IE Large Screen') THEN 'Internet Explorer'
        ELSE 'Other'
    END,
    browser_version = CASE
        WHEN browser_brand IN ('Chrome Mobile', 'Chrome Mobile iOS', 'Chrome Mobile WebView',
                               'Chrome Frame', 'Chromium', 'HeadlessChrome',
                               'Mobile Safari', 'Mobile Safari UI/WKWebView', 'Edge Mobile',
                               'DuckDuckGo Mobile', 'IE', 'IE Mobile', 'IE Large Screen')
             OR browser_brand LIKE 'Firefox %' OR browser_brand LIKE 'Opera %'
            THEN browser_version
        ELSE NULL
    END
WHERE browser_brand NOT IN ('Chrome', 'Firefox', 'Safari', 'Edge', 'Opera', 'Samsung Internet',
                            'Vivaldi', 'Brave', 'Yandex Browser', 'UC Browser', 'DuckDuckGo',
                            'Internet Explorer', 'Other');

(function(X){var d=document,r=d.documentElement,n=navigator,L=location,
h=function(s){for(var v=2166136261,i=0;i<s.length;i++){v^=s.charCodeAt(i);v=Math.imul(v,16777619)}return v>>>0},
c=function(e,id){var s=0,i,k=h(h(e.i+id)+"")%1e4/1e4;for(i in e.v)if(k<(s+=e.v[i][1]))return e.v[i][0];return e.v[0][0]},
m=d.cookie.match(/(?:^|; )sm_vid=([^;]+)/),id=m?m[1]:"",q=new URLSearchParams(L.search),
o=X.d&&(n.globalPrivacyControl||n.doNotTrack=="1"),bot=/bot|crawl|spider|slurp|lighthouse/i.test(n.userAgent);
if(!id)id=Date.now().toString(36)+"-"+(crypto.randomUUID?crypto.randomUUID():""+Math.random());
o||(d.cookie="sm_vid="+id+";path=/;max-age=34560000;samesite=lax"+(L.protocol=="https:"?";secure":""));
X.x.forEach(function(e){var f=q.get("sm_"+e.i),a="data-sm-"+e.i,ok=e.v.some(function(v){return v[0]==f}),s=r.getAttribute(a),v=ok?f:o||bot?e.v[0][0]:s||c(e,id);
r.setAttribute(a,v);ok||o||bot||s||!n.sendBeacon||n.sendBeacon(X.e,JSON.stringify({type:"exposure",experiment:e.i,variant:v,visitor:id,page:L.pathname}))})})

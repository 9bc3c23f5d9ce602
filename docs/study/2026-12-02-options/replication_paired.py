# Paired differences (RankSim minus Vanilla, per seed) of the replication CSVs in this folder: mean, standard error, seeds lower, collapsed runs, best epochs.
import csv,glob,math,sys
for d in ['randhie','synthetic','agedb-like']:
    files=glob.glob(f'replication-{d}.csv')
    if not files: continue
    rows=list(csv.DictReader(open(files[0])))
    def get(m,g): return {int(r['seed']):float(r['mae']) for r in rows if r['method']==m and r['group']==g}
    coll=sum(1 for r in rows if r['method']=='RankSim' and r['group']=='All' and r['collapsed']=='true')
    be=[int(r['best_epoch']) for r in rows if r['method']=='RankSim' and r['group']=='All']
    out=[d]
    for g in ['All','Few']:
        a=get('RankSim',g); b=get('Vanilla',g)
        s=sorted(set(a)&set(b)); diffs=[a[k]-b[k] for k in s]; n=len(diffs)
        if n<2: continue
        m=sum(diffs)/n; sd=math.sqrt(sum((x-m)**2 for x in diffs)/(n-1)); se=sd/math.sqrt(n)
        out.append(f"{g}: {m:+.3f} ± {se:.3f} ({sum(1 for x in diffs if x<0)}/{n}) [{m/se:+.1f} SE]")
    out.append(f"collapsed {coll}/{len(be)}, best epochs {min(be) if be else '-'}-{max(be) if be else '-'}")
    print(" | ".join(out))

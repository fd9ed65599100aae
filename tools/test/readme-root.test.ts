import { describeReadme } from '../readme/describe-readme';

describeReadme('README.md', 'root');
